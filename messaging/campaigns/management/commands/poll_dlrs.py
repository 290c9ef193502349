"""``manage.py poll_dlrs``: one DLR poll (what beat does every minute)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Pull delivery reports for submitted messages once, within the GET budget."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, default=None)
        parser.add_argument("--max-gets", type=int, default=None)

    def handle(self, *args, campaign, max_gets, **options):
        from messaging.campaigns.services.dlr import dlr_poll

        counts = dlr_poll(campaign_id=campaign, max_gets=max_gets)
        self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
