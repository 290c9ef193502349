import django_tables2 as tables


def _percent(value) -> str:
    return "–" if value is None else f"{value:.0%}"


class OtpRatesTable(tables.Table):
    day = tables.Column(verbose_name="Day", default="All")
    requests = tables.Column(verbose_name="Requests")
    sent = tables.Column(verbose_name="Reached BICS")
    verified = tables.Column(verbose_name="Verified")
    expired = tables.Column(verbose_name="Expired")
    wrong_code = tables.Column(verbose_name="Wrong code")
    errors = tables.Column(verbose_name="Send errors")
    success_rate = tables.Column(verbose_name="Success rate", default="–")
    expiry_rate = tables.Column(verbose_name="Expiry rate", default="–")

    class Meta:
        orderable = False
        attrs = {"class": "verify-rates"}

    def render_day(self, value):
        return value.isoformat() if value else "All"

    def render_success_rate(self, value):
        return _percent(value)

    def render_expiry_rate(self, value):
        return _percent(value)
