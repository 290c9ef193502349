"""The campaign models, moved from the messaging app: state only. Their tables (``messaging_*``,
kept by ``Meta.db_table``) were created by messaging's migrations; messaging 0007 drops the
old models from its state and moves their content types (so permissions follow)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contacts', '0002_marketing_permissions'),
        ('messaging', '0006_marketing_campaign_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Campaign',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=200)),
                    ('channel', models.CharField(choices=[('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('viber', 'Viber')], default='sms', max_length=10)),
                    ('variable_mapping', models.JSONField(blank=True, default=dict, help_text='Template variable -> {"field": "first_name" | "attributes.city", "default": "", "skip": true (skip the recipient when missing)}.')),
                    ('upload', models.FileField(blank=True, help_text='Optional one-off list (CSV): a number column (number, phone, mobile, to, msisdn); other columns are values for the template variables.', upload_to='campaigns/uploads/')),
                    ('state', models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('sampling', 'Sampling (smart delivery)'), ('sending', 'Sending'), ('sent', 'Sent'), ('paused', 'Paused'), ('cancelled', 'Cancelled'), ('failed', 'Failed')], default='draft', max_length=10)),
                    ('scheduled_at', models.DateTimeField(blank=True, help_text='Empty: send at launch.', null=True)),
                    ('time_zone', models.CharField(blank=True, default='', help_text="The user's time zone (schedules are shown and checked in it).", max_length=64)),
                    ('batch_size', models.PositiveIntegerField(blank=True, help_text='Recipients per request (identical text); default from settings.', null=True)),
                    ('batch_interval', models.PositiveIntegerField(default=0, help_text='Seconds between batches.')),
                    ('smart_delivery', models.BooleanField(default=False)),
                    ('smart_delay_minutes', models.PositiveIntegerField(default=15)),
                    ('smart_sample_size', models.PositiveIntegerField(default=10)),
                    ('smart_wait_minutes', models.PositiveIntegerField(default=30, help_text="How long to wait for the sample's DLRs.")),
                    ('sample_sent_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('paused_from', models.CharField(blank=True, editable=False, max_length=10)),
                    ('next_batch_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('launched_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('audience_size', models.PositiveIntegerField(blank=True, editable=False, null=True)),
                    ('exclusions', models.JSONField(blank=True, default=dict, editable=False)),
                    ('estimated_cost', models.DecimalField(blank=True, decimal_places=4, editable=False, max_digits=14, null=True)),
                    ('state_reason', models.TextField(blank=True, editable=False)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='campaigns', to=settings.AUTH_USER_MODEL)),
                    ('segments', models.ManyToManyField(blank=True, related_name='campaigns', to='contacts.segment')),
                    ('sender', models.ForeignKey(blank=True, help_text='SMS: the sender ID.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='campaigns', to='messaging.sender')),
                    ('tags', models.ManyToManyField(blank=True, related_name='campaigns', to='contacts.tag')),
                    ('template', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='campaigns', to='messaging.template')),
                    ('template_approval', models.ForeignKey(blank=True, editable=False, help_text='The approved version pinned at launch.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='messaging.templateapproval')),
                ],
                options={
                    'db_table': 'messaging_campaign',
                    'ordering': ['-id'],
                },
            ),
            migrations.CreateModel(
                name='CampaignTransition',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('from_state', models.CharField(max_length=10)),
                    ('to_state', models.CharField(max_length=10)),
                    ('at', models.DateTimeField(auto_now_add=True)),
                    ('note', models.TextField(blank=True)),
                    ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('campaign', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='transitions', to='campaigns.campaign')),
                ],
                options={
                    'db_table': 'messaging_campaigntransition',
                    'ordering': ['at', 'pk'],
                },
            ),
            migrations.CreateModel(
                name='Message',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('channel', models.CharField(default='sms', max_length=10)),
                    ('number', models.CharField(help_text='E.164 with +.', max_length=20)),
                    ('custom_id', models.CharField(max_length=64, unique=True)),
                    ('text', models.TextField(blank=True, help_text='Personalised text (identical text lives on the batch).')),
                    ('variables', models.JSONField(blank=True, default=dict)),
                    ('is_sample', models.BooleanField(default=False)),
                    ('status', models.CharField(choices=[('queued', 'Queued'), ('submitted', 'Submitted'), ('unknown', 'Outcome unknown'), ('delivered', 'Delivered'), ('read', 'Read'), ('failed', 'Failed'), ('rejected', 'Rejected'), ('expired', 'Expired')], default='queued', max_length=10)),
                    ('bics_status', models.CharField(blank=True, help_text='The last DLR status as BICS gave it.', max_length=32)),
                    ('bics_message_id', models.CharField(blank=True, max_length=100)),
                    ('group_id', models.CharField(blank=True, max_length=64)),
                    ('parts', models.PositiveSmallIntegerField(default=1)),
                    ('price', models.DecimalField(blank=True, decimal_places=6, max_digits=12, null=True)),
                    ('error_code', models.CharField(blank=True, max_length=8)),
                    ('error_description', models.CharField(blank=True, max_length=255)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('submitted_at', models.DateTimeField(blank=True, null=True)),
                    ('delivered_at', models.DateTimeField(blank=True, null=True)),
                    ('status_at', models.DateTimeField(blank=True, null=True)),
                    ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='campaigns.campaign')),
                    ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contacts.contact')),
                ],
                options={
                    'db_table': 'messaging_message',
                    'ordering': ['pk'],
                },
            ),
            migrations.CreateModel(
                name='DeliveryReport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('channel', models.CharField(default='sms', max_length=10)),
                    ('source', models.CharField(choices=[('pull', 'Pulled'), ('webhook', 'Webhook'), ('reconcile', 'Reconciliation')], default='pull', max_length=10)),
                    ('bics_message_id', models.CharField(blank=True, max_length=100)),
                    ('cid', models.CharField(blank=True, max_length=64)),
                    ('mobile', models.CharField(blank=True, max_length=20)),
                    ('status', models.CharField(blank=True, max_length=32)),
                    ('code', models.CharField(blank=True, max_length=8)),
                    ('applied', models.BooleanField(default=False, help_text="Did it change the message's status?")),
                    ('raw', models.JSONField(blank=True, default=dict)),
                    ('received_at', models.DateTimeField(auto_now_add=True)),
                    ('message', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reports', to='campaigns.message')),
                ],
                options={
                    'db_table': 'messaging_deliveryreport',
                    'ordering': ['-received_at', '-pk'],
                },
            ),
            migrations.CreateModel(
                name='SendBatch',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.PositiveIntegerField(default=1)),
                    ('custom', models.CharField(max_length=64, unique=True)),
                    ('text', models.TextField(blank=True, help_text='Identical text of every message of the batch.')),
                    ('is_sample', models.BooleanField(default=False)),
                    ('size', models.PositiveIntegerField(default=0)),
                    ('state', models.CharField(choices=[('pending', 'Pending'), ('claimed', 'Claimed'), ('sent', 'Sent'), ('unknown', 'Outcome unknown'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=10)),
                    ('attempts', models.PositiveIntegerField(default=0)),
                    ('claim_token', models.UUIDField(blank=True, editable=False, null=True)),
                    ('claimed_by', models.CharField(blank=True, max_length=200)),
                    ('claimed_at', models.DateTimeField(blank=True, null=True)),
                    ('sent_at', models.DateTimeField(blank=True, null=True)),
                    ('group_id', models.CharField(blank=True, max_length=64)),
                    ('error', models.TextField(blank=True)),
                    ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='batches', to='campaigns.campaign')),
                ],
                options={
                    'db_table': 'messaging_sendbatch',
                    'ordering': ['campaign', 'number'],
                },
            ),
            migrations.AddField(
                model_name='message',
                name='batch',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='campaigns.sendbatch'),
            ),
            migrations.CreateModel(
                name='SmartLink',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('link_id', models.CharField(max_length=40, unique=True, verbose_name='smart-link id')),
                    ('name', models.CharField(blank=True, max_length=100)),
                    ('visits_pulled_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='smart_links', to='campaigns.campaign')),
                ],
                options={
                    'db_table': 'messaging_smartlink',
                    'ordering': ['link_id'],
                },
            ),
            migrations.CreateModel(
                name='SmartLinkVisit',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('bics_id', models.CharField(max_length=100, unique=True, verbose_name='BICS id')),
                    ('link_id', models.CharField(db_index=True, max_length=40)),
                    ('user_agent', models.TextField(blank=True)),
                    ('browser', models.CharField(blank=True, max_length=100)),
                    ('browser_version', models.CharField(blank=True, max_length=50)),
                    ('platform', models.CharField(blank=True, max_length=50)),
                    ('device_type', models.CharField(blank=True, max_length=50)),
                    ('device_brand', models.CharField(blank=True, max_length=50)),
                    ('country', models.CharField(blank=True, max_length=100)),
                    ('country_code', models.CharField(blank=True, max_length=8)),
                    ('region', models.CharField(blank=True, max_length=100)),
                    ('city', models.CharField(blank=True, max_length=100)),
                    ('mobile', models.CharField(blank=True, max_length=32)),
                    ('created_at', models.DateTimeField(blank=True, null=True)),
                    ('source', models.CharField(choices=[('webhook', 'Webhook'), ('pull', 'Pulled')], default='webhook', max_length=8)),
                    ('smart_link', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='visits', to='campaigns.smartlink')),
                ],
                options={
                    'db_table': 'messaging_smartlinkvisit',
                    'ordering': ['-created_at', '-pk'],
                },
            ),
            migrations.AddIndex(
                model_name='campaign',
                index=models.Index(fields=['state', 'scheduled_at'], name='messaging_c_state_c41b70_idx'),
            ),
            migrations.AddIndex(
                model_name='campaigntransition',
                index=models.Index(fields=['campaign', 'at'], name='messaging_c_campaig_8a8047_idx'),
            ),
            migrations.AddIndex(
                model_name='deliveryreport',
                index=models.Index(fields=['message', 'received_at'], name='messaging_d_message_208bfd_idx'),
            ),
            migrations.AddIndex(
                model_name='sendbatch',
                index=models.Index(fields=['campaign', 'state', 'number'], name='messaging_s_campaig_cf6c9b_idx'),
            ),
            migrations.AddIndex(
                model_name='sendbatch',
                index=models.Index(fields=['state', 'claimed_at'], name='messaging_s_state_b0268a_idx'),
            ),
            migrations.AddIndex(
                model_name='message',
                index=models.Index(fields=['campaign', 'status'], name='messaging_m_campaig_75e4de_idx'),
            ),
            migrations.AddIndex(
                model_name='message',
                index=models.Index(fields=['status', 'submitted_at'], name='messaging_m_status_e1eb5a_idx'),
            ),
            migrations.AddIndex(
                model_name='message',
                index=models.Index(fields=['bics_message_id'], name='messaging_m_bics_me_91213f_idx'),
            ),
            migrations.AddIndex(
                model_name='message',
                index=models.Index(fields=['group_id'], name='messaging_m_group_i_539166_idx'),
            ),
            migrations.AddIndex(
                model_name='message',
                index=models.Index(fields=['number'], name='messaging_m_number_ffeb3a_idx'),
            ),
        ]),
    ]
