"""The pacing alert email's signed "stop these emails" link: no login, this person's alerts of this store only."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from stores.models import StoreMembership
from stores.views import opt_out_link_broken


@csrf_exempt  # the signed link is the credential; a mail app's one-click POST carries no CSRF token
@login_not_required
def ad_alert_opt_out(request, token):
    """A page with a button (a link opened by a mail scanner changes nothing), and the target of the mail app's
    RFC 8058 one-click POST. A forged or mangled link is refused with a 400 page and changes nothing."""
    membership = StoreMembership.from_opt_out_token(token, "ad_alert_email")
    if membership is None:
        return opt_out_link_broken(request, "ad_alert_email")
    if request.method == "POST":
        membership.opt_out("ad_alert_email")
    return render(request, "campaigns/ad_alert_opt_out.html", {"membership": membership,
                                                               "done": not membership.ad_alert_email})
