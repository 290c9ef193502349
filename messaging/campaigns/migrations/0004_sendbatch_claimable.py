"""Send batches become a kind of the batch engine (``core.batches.ClaimableBatch``): the
state labels and help texts of the kernel, ``enqueued_at`` added, ``claimed_at`` indexed.
The table keeps its name and its rows."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_marketing_send_one_off'),
    ]

    operations = [
        migrations.AddField(
            model_name='sendbatch',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, help_text='Last time a task was queued for it.', null=True),
        ),
        migrations.AlterField(
            model_name='sendbatch',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='Claims so far.'),
        ),
        migrations.AlterField(
            model_name='sendbatch',
            name='claimed_at',
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AlterField(
            model_name='sendbatch',
            name='claimed_by',
            field=models.CharField(blank=True, help_text='host:pid:thread of the last claim.', max_length=200),
        ),
        migrations.AlterField(
            model_name='sendbatch',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('claimed', 'Claimed by a worker'), ('sent', 'Sent'), ('failed', 'Refused by BICS'), ('unknown', 'Outcome unknown (to reconcile)'), ('cancelled', 'Cancelled')], default='pending', max_length=10),
        ),
    ]
