"""What guides asks of the apps above it (the store), which it never imports.

Each is sent by guides.access and answered by every connected receiver; README's
"How the parts talk" lists who answers.
"""

from django.dispatch import Signal

# Which paid guides may this account read? Sent with `user`; a receiver returns guide ids.
paid_guides_for_user = Signal()
# Which paid guides did this browser session pay for as a guest? Sent with `session`;
# a receiver returns guide ids.
paid_guides_for_session = Signal()
# What would unlock this paid guide? Sent with `guide`; a receiver returns dicts of
# title, price, url and summary for the paywall.
paywall_offers_for = Signal()
# Which membership tiers does this account hold (their slugs, each lower tier
# included)? Sent with `user`; a receiver returns tier slugs.
tiers_for_user = Signal()
