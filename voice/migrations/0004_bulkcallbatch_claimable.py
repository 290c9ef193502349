"""Bulk call batches become a kind of the batch engine (``core.batches.ClaimableBatch``):
``claims`` is renamed ``attempts`` (data kept), ``claimed_by`` is added, the state gains
``cancelled``. The table keeps its name."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("voice", "0003_batch_enqueued_at")]

    operations = [
        migrations.RenameField(model_name="bulkcallbatch", old_name="claims", new_name="attempts"),
        migrations.AddField(
            model_name='bulkcallbatch',
            name='claimed_by',
            field=models.CharField(blank=True, help_text='host:pid:thread of the last claim.', max_length=200),
        ),
        migrations.AlterField(
            model_name='bulkcallbatch',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='Claims so far.'),
        ),
        migrations.AlterField(
            model_name='bulkcallbatch',
            name='claim_token',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='bulkcallbatch',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('claimed', 'Claimed by a worker'), ('sent', 'Sent'), ('failed', 'Refused by BICS'), ('unknown', 'Outcome unknown (to reconcile)'), ('cancelled', 'Cancelled')], default='pending', max_length=10),
        ),
    ]
