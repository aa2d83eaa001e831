from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0005_subscription_via_list_form"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="accepted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Rows sent before acknowledgements were recorded were acknowledged (their
        # sender lived to report them); without this they would read "unconfirmed".
        migrations.RunSQL(
            "UPDATE newsletter_delivery SET accepted_at = sent_at WHERE status = 'sent'",
            migrations.RunSQL.noop,
        ),
    ]
