"""The webhook models, moved from the messaging app: state only. Their tables (``messaging_*``,
kept by ``Meta.db_table``) were created by messaging's migrations; messaging 0007 drops the
old models from its state and moves their content types (so permissions follow)."""

import django.db.models.deletion
import messaging.webhooks.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contacts', '0002_marketing_permissions'),
        ('messaging', '0006_marketing_campaign_permissions'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='Webhook',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('bics_id', models.CharField(blank=True, db_index=True, max_length=64, null=True, verbose_name='BICS id')),
                    ('sync_state', models.CharField(choices=[('never', 'Never synced'), ('synced', 'Synced'), ('dirty', 'Changed here, not pushed'), ('failed', 'Sync failed')], db_index=True, default='never', max_length=10)),
                    ('synced_at', models.DateTimeField(blank=True, null=True)),
                    ('sync_error', models.TextField(blank=True, default='')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('name', models.CharField(max_length=100)),
                    ('uri', models.URLField(max_length=500, verbose_name='URL')),
                    ('status', models.CharField(choices=[('1', 'Active'), ('0', 'Inactive')], default='1', max_length=1)),
                    ('secret', models.CharField(blank=True, help_text="Sent by BICS as 'Authorization: Bearer <secret>'.", max_length=200)),
                    ('token', models.CharField(blank=True, help_text='Validation key of the verification handshake.', max_length=200, verbose_name='verification token')),
                    ('slug', models.SlugField(default=messaging.webhooks.models.new_slug, help_text='Path segment of our receiver: /webhooks/bics/<slug>/.', max_length=40, unique=True)),
                    ('verified_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ],
                options={
                    'db_table': 'messaging_webhook',
                    'ordering': ['name', 'pk'],
                },
            ),
            migrations.CreateModel(
                name='WebhookEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('received_at', models.DateTimeField(db_index=True)),
                    ('event_type', models.CharField(db_index=True, max_length=40)),
                    ('method', models.CharField(default='POST', max_length=6)),
                    ('payload', models.JSONField(blank=True, default=dict, help_text="The event's payload (normalised).")),
                    ('raw', models.JSONField(blank=True, default=dict, help_text='The body or query as received.')),
                    ('dedupe_key', models.CharField(help_text='sha256 of the event type and its payload: a retry is stored once.', max_length=64, unique=True)),
                    ('state', models.CharField(choices=[('received', 'Received'), ('processed', 'Processed'), ('ignored', 'Ignored'), ('failed', 'Failed')], default='received', max_length=10)),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('error', models.TextField(blank=True)),
                    ('result', models.JSONField(blank=True, default=dict)),
                    ('processed_at', models.DateTimeField(blank=True, null=True)),
                    ('webhook', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='events', to='webhooks.webhook')),
                ],
                options={
                    'db_table': 'messaging_webhookevent',
                    'ordering': ['-received_at'],
                },
            ),
            migrations.CreateModel(
                name='InboundMessage',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('channel', models.CharField(max_length=10)),
                    ('from_number', models.CharField(db_index=True, max_length=32, verbose_name='from')),
                    ('to_number', models.CharField(blank=True, max_length=32, verbose_name='to')),
                    ('text', models.TextField(blank=True)),
                    ('bics_id', models.CharField(blank=True, max_length=100)),
                    ('received_at', models.DateTimeField(db_index=True)),
                    ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_messages', to='contacts.contact')),
                    ('event', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_message', to='webhooks.webhookevent')),
                ],
                options={
                    'db_table': 'messaging_inboundmessage',
                    'ordering': ['-received_at'],
                },
            ),
            migrations.CreateModel(
                name='Subscription',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('bics_id', models.CharField(blank=True, db_index=True, max_length=64, null=True, verbose_name='BICS id')),
                    ('sync_state', models.CharField(choices=[('never', 'Never synced'), ('synced', 'Synced'), ('dirty', 'Changed here, not pushed'), ('failed', 'Sync failed')], db_index=True, default='never', max_length=10)),
                    ('synced_at', models.DateTimeField(blank=True, null=True)),
                    ('sync_error', models.TextField(blank=True, default='')),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('event', models.CharField(choices=[('sms:message:status', 'SMS: message status'), ('sms:unsubscription', 'SMS: unsubscription'), ('whatsapp:message:in', 'WhatsApp: message in'), ('whatsapp:message:status', 'WhatsApp: message status'), ('whatsapp:unsubscription', 'WhatsApp: unsubscription'), ('voice:message:out', 'Voice: call status (CDR)'), ('voice:unsubscription', 'Voice: unsubscription'), ('viber:message:status', 'Viber: message status'), ('viber:message:in', 'Viber: message in'), ('viber:unsubscription', 'Viber: unsubscription'), ('vmn:message:in', 'Interact: message in'), ('contacts:subscriber:subscription', 'Contacts: subscriber created or updated')], max_length=40)),
                    ('identity', models.CharField(default='all', max_length=100)),
                    ('webhook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='webhooks.webhook')),
                ],
                options={
                    'db_table': 'messaging_subscription',
                    'ordering': ['webhook', 'event'],
                    'constraints': [models.UniqueConstraint(fields=('webhook', 'event', 'identity'), name='uniq_subscription_webhook_event_identity')],
                },
            ),
            migrations.AddIndex(
                model_name='webhookevent',
                index=models.Index(fields=['state', 'received_at'], name='webhookevent_state_received'),
            ),
        ]),
    ]
