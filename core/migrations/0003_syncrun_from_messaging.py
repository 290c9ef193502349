"""``SyncRun`` joins the kernel: state only. Its table ``messaging_syncrun`` is created by the
messaging app's first migration (a database of any age has it); messaging 0007 drops the old
model from its state and moves its content type."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0002_view_full_numbers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='SyncRun',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('resource', models.CharField(max_length=40)),
                    ('direction', models.CharField(choices=[('push', 'Push'), ('pull', 'Pull')], max_length=4)),
                    ('state', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=8)),
                    ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('counts', models.JSONField(blank=True, default=dict)),
                    ('failures', models.JSONField(blank=True, default=list)),
                    ('summary', models.TextField(blank=True)),
                    ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'messaging_syncrun',
                    'ordering': ['-created_at'],
                },
            ),
        ]),
    ]
