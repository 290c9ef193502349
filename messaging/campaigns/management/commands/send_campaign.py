"""``manage.py send_campaign ID [--now] [--wait]``: launch a campaign.

With ``--wait`` the whole send runs in this process (no worker needed) and the counts are
printed. Launching a campaign that is already sending or sent changes nothing and says so.
"""

from django.core.management.base import BaseCommand, CommandError

from messaging.campaigns.models import Campaign


class Command(BaseCommand):
    help = "Launch a campaign (--now ignores its schedule; --wait sends in-process and prints counts)."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--now", action="store_true", help="Send now even if scheduled later.")
        parser.add_argument("--wait", action="store_true", help="Run the send here and print the counts.")
        parser.add_argument("--timeout", type=float, default=None, help="With --wait: give up after N seconds.")

    def handle(self, *args, campaign_id, now, wait, timeout, **options):
        from messaging.campaigns.services import dispatch
        from messaging.campaigns.services.campaigns import (
            CampaignAlreadyLaunched,
            CampaignError,
            campaign_launch,
        )

        try:
            campaign = Campaign.objects.get(pk=campaign_id)
        except Campaign.DoesNotExist:
            raise CommandError(f"No campaign {campaign_id}.") from None
        try:
            campaign = campaign_launch(campaign=campaign, now=now, enqueue=not wait, provider_wait=10.0)
        except CampaignAlreadyLaunched as exc:
            self.stdout.write(str(exc))
            return
        except CampaignError as exc:
            raise CommandError(str(exc)) from exc
        if campaign.state == Campaign.State.SCHEDULED:
            self.stdout.write(f"Campaign {campaign.pk} is scheduled for {campaign.scheduled_at:%Y-%m-%d %H:%M %Z}; "
                              "use --now to send it now.")
            return
        self.stdout.write(f"Campaign {campaign.pk} launched: {campaign.audience_size} recipients.")
        if not wait:
            return
        counts = dispatch.campaign_run(campaign.pk, timeout=timeout, out=self.stdout.write)
        campaign.refresh_from_db()
        summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        self.stdout.write(f"Campaign {campaign.pk} {campaign.get_state_display().lower()}: {summary or 'no messages'}.")
