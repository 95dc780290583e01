"""Sign-in pages: Django's login (with the portal's form), the password change, and django-axes'
lockout page. The forms parse; these views hand what happened to the sign-in services."""
import base64
import math
from contextlib import contextmanager

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from policy.selectors import (
    password_change_allowed_from,
    password_change_reason,
    policy_for,
    second_factor_required,
)
from policy.services import password_change
from policy.validators import PASSPHRASE_EXAMPLES, password_rules_for
from portal.client_ip import client_ip
from portal.errors import DomainError, PolicyViolation, QuotaExceeded, form_error
from portal.ratelimit import rate_limit_hit

from ..choices import SignInFactor
from ..forms.signin import EnrolmentForm, LoginForm, PasswordChangeForm, SecondStepForm
from ..lockout import counted_username
from ..models import User
from ..selectors import address_blocked_until, lockout_ends_at
from ..services import signin
from ..services.second_factor import (
    recovery_codes_left,
    second_factor_enrolled,
    second_factor_enrolment_confirm,
    second_factor_enrolment_start,
    second_factor_verify,
)
from ..services.sessions import sessions_end_others
from ..session_store import SECOND_FACTOR_KEY

# The session of a sign-in whose password was right and whose second factor is still to come: no
# `_auth_user_id` (Django's login has not happened), so nothing but the second step opens.
PENDING_KEY = "_signin_pending"


def rate_limited_page(request, refusal: QuotaExceeded):
    """429 with Retry-After: too many posts from one address (or account) in a minute."""
    response = render(request, "registration/rate_limited.html", {"seconds": refusal.retry_after}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def _pending_begin(request, user, *, next_url: str):
    """The password was right for an account that needs a second factor: remember who, for a short
    window, under a new session key (a key planted before the sign-in is worth nothing after it)."""
    request.session.cycle_key()
    enrol = not second_factor_enrolled(user)
    request.session[PENDING_KEY] = {
        "account": user.pk, "backend": user.backend, "since": int(timezone.now().timestamp()),
        "next": next_url, "auth_hash": user.get_session_auth_hash(), "enrol": enrol,
    }
    return redirect("login_enrol" if enrol else "login_second_step")


def _pending(request):
    """(the pending sign-in, its account) while the window lasts and the password has not changed."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, None
    window = settings.SIGNIN_ENROLMENT_SECONDS if pending.get("enrol") else settings.SIGNIN_SECOND_STEP_SECONDS
    account = User.objects.filter(pk=pending.get("account"), is_active=True).select_related("unit").first()
    if (timezone.now().timestamp() - pending.get("since", 0) > window or account is None
            or not constant_time_compare(account.get_session_auth_hash(), pending.get("auth_hash", ""))):
        del request.session[PENDING_KEY]
        return None, None
    account.backend = pending["backend"]
    return pending, account


def _pending_expired():
    return redirect(f"{reverse('login')}?second_step_expired=1")


def _count_wrong_code(request, account) -> None:
    """A wrong code counts towards the username's lockout exactly as a wrong password does: django-axes
    hears the same failure signal; the event says the code, not the password, was wrong."""
    request.signin_factor = SignInFactor.TOTP
    user_login_failed.send(sender=__name__, credentials={"username": account.username}, request=request)


def _second_step_complete(request, account, *, factor: str, pending: dict):
    """The code was right: now, and only now, the session is signed in (under another new key)."""
    del request.session[PENDING_KEY]
    request.signin_second_factor = factor
    login(request, account, backend=pending["backend"])
    request.session[SECOND_FACTOR_KEY] = factor
    return pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL)


def _refused_while_locked(request, account):
    """Checked before the code, under the attempt lock: a locked username gets the lockout page."""
    if lockout_ends_at(account.username) is None:
        return None
    signin.login_record_failure(username=account.username, reason="locked")
    request.session.pop(PENDING_KEY, None)
    return _lockout_page(request, username=account.username)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        # Signed in, with ?next= pointing back at this page: Django's guard raises ValueError (a 500).
        if request.user.is_authenticated and self.get_success_url() == request.path:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            rate_limit_hit("signin", client_ip(request) or "")
        except QuotaExceeded as refusal:
            return rate_limited_page(request, refusal)
        # From the lockout check (django-axes' backend) to counting the failure, one attempt per username.
        with signin.attempt_serialised(username=counted_username(request.POST.get("username", ""))):
            return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if second_factor_required(user):
            return _pending_begin(self.request, user, next_url=self.get_success_url())
        # Another account's half-finished sign-in (password passed, code pending) in this browser ends
        # here: Django's login keeps the session's data when no one was signed in.
        self.request.session.pop(PENDING_KEY, None)
        return super().form_valid(form)

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "one_time_password_expired"):
            signin.login_record_refused(account=form.get_user(), reason="one_time_password_expired")
        if form.has_error(NON_FIELD_ERRORS, "contained"):
            signin.login_record_refused(account=form.get_user(), reason="contained")
        if form.has_error("username", "max_length"):
            # No account has such a username: recorded (masked), not counted towards any lockout.
            signin.login_record_failure(username=self.request.POST.get("username", ""), reason="malformed")
        return super().form_invalid(form)


@contextmanager
def _second_step_guarded(request, account):
    """A posted code (second step or enrolment) is judged under the sign-in's rate limit, serialised with
    the account's other attempts and refused while the account is locked: yields the refusal page, or
    None to go on inside the serialised attempt."""
    try:
        rate_limit_hit("second_step", client_ip(request) or "")
    except QuotaExceeded as refusal:
        yield rate_limited_page(request, refusal)
        return
    with signin.attempt_serialised(username=account.username):
        yield _refused_while_locked(request, account)


@sensitive_post_parameters("otp_token")
@never_cache
def second_step_view(request):
    """The second step: the code from the authenticator app (or a recovery code), within the window."""
    pending, account = _pending(request)
    if account is None:
        return _pending_expired()
    if pending.get("enrol"):
        return redirect("login_enrol")
    form = SecondStepForm(request.POST or None)
    if request.method == "POST":
        with _second_step_guarded(request, account) as refused:
            if refused is not None:
                return refused
            if form.is_valid():
                factor = second_factor_verify(account=account, token=form.cleaned_data["otp_token"])
                if factor:
                    next_url = _second_step_complete(request, account, factor=factor, pending=pending)
                    if factor == SignInFactor.RECOVERY_CODE:
                        messages.warning(request, _(
                            "You signed in with a recovery code; %(left)d left. If your phone is lost, ask the IT "
                            "Center to reset your authenticator app.") % {"left": recovery_codes_left(account)})
                    return redirect(next_url)
                _count_wrong_code(request, account)
                if lockout_ends_at(account.username) is not None:
                    request.session.pop(PENDING_KEY, None)
                    return _lockout_page(request, username=account.username)
                form.add_error("otp_token", _("The code is wrong or has already been used. Wait for the next code "
                                              "in the app and try again."))
    return render(request, "registration/second_step.html", {"form": form, "account": account})


@sensitive_post_parameters("otp_token")
@never_cache
def enrolment_view(request):
    """First sign-in of an account that needs a second factor: scan the portal's QR code (or type the
    key), confirm with a first code; the ten recovery codes are then shown once, on this answer."""
    pending, account = _pending(request)
    if account is None:
        return _pending_expired()
    if not pending.get("enrol"):
        return redirect("login_second_step")
    device = TOTPDevice.objects.filter(pk=pending.get("device"), user=account, confirmed=False).first()
    try:
        if device is None:
            device = second_factor_enrolment_start(account=account)
            pending["device"] = device.pk
            request.session[PENDING_KEY] = pending
    except DomainError as error:
        return _enrolled_elsewhere(request, error)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST":
        with _second_step_guarded(request, account) as refused:
            if refused is not None:
                return refused
            if form.is_valid():
                try:
                    codes = second_factor_enrolment_confirm(account=account, device_id=device.pk,
                                                            token=form.cleaned_data["otp_token"])
                except DomainError as error:
                    return _enrolled_elsewhere(request, error)
                if codes is not None:
                    next_url = _second_step_complete(request, account, factor=SignInFactor.TOTP, pending=pending)
                    return render(request, "registration/recovery_codes.html", {"codes": codes, "next": next_url})
                _count_wrong_code(request, account)
                if lockout_ends_at(account.username) is not None:
                    request.session.pop(PENDING_KEY, None)
                    return _lockout_page(request, username=account.username)
                form.add_error("otp_token", _("The code is wrong. Check the time on your phone and type the code the "
                                              "app shows now."))
    key = base64.b32encode(device.bin_key).decode()
    return render(request, "registration/enrolment.html", {
        "form": form, "account": account, "key_groups": [key[i:i + 4] for i in range(0, len(key), 4)],
    })


def _enrolled_elsewhere(request, error):
    """Another session enrolled the account first: this half-finished sign-in ends, with the reason."""
    request.session.pop(PENDING_KEY, None)
    messages.error(request, error.message)
    return redirect("login")


@never_cache
def enrolment_qr_view(request):
    """The enrolment's QR code (the otpauth:// URI), drawn by the portal as SVG: no outside service
    ever sees the key."""
    pending, account = _pending(request)
    if account is None or not pending.get("enrol"):
        return HttpResponse(status=404)
    device = TOTPDevice.objects.filter(pk=pending.get("device"), user=account, confirmed=False).first()
    if device is None:
        return HttpResponse(status=404)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return HttpResponse(image.to_string(encoding="unicode"), content_type="image/svg+xml")


def _count_wrong_current_password(request) -> None:
    """Guessing the current password on the change page must cost what guessing it at the login
    costs: django-axes counts this failure towards the username's lockout (its signal receiver)."""
    user_login_failed.send(sender=__name__, credentials={"username": request.user.username}, request=request)


@sensitive_post_parameters()
@never_cache
@login_required
def password_change_view(request):
    reason = password_change_reason(request.user)
    form = PasswordChangeForm(request.user, request.POST or None, one_time=reason == "one_time")
    if request.method == "POST":
        username = request.user.username
        try:
            rate_limit_hit("password_change", username)
        except QuotaExceeded as refusal:
            return rate_limited_page(request, refusal)
        # As at the login: the lockout is checked BEFORE the current password, and check, verification
        # and counting run one at a time per username (parallel guesses from one session).
        with signin.attempt_serialised(username=username):
            if lockout_ends_at(username) is not None:
                signin.login_record_failure(username=username, reason="locked")
                logout(request)
                return _lockout_page(request, username=username)
            if form.is_valid():
                try:
                    password_change(actor=request.user, account=request.user,
                                    new_password=form.cleaned_data["new_password1"])
                except PolicyViolation as error:
                    form_error(form, error, field="new_password1")
                else:
                    update_session_auth_hash(request, request.user)
                    # Every other browser signed in to the account is signed out now.
                    ended = sessions_end_others(account=request.user, keep_session_key=request.session.session_key)
                    messages.success(request, _("Your password has been changed."))
                    if ended:
                        messages.info(request, _("Your other sessions have been ended."))
                    return redirect("home")
            elif form.has_error("old_password", "password_incorrect"):
                _count_wrong_current_password(request)
                if lockout_ends_at(username) is not None:
                    # Too many wrong current passwords: the session ends like a locked login would.
                    logout(request)
                    return _lockout_page(request, username=username)
    return render(request, "registration/password_change_form.html", {
        "form": form, "reason": reason, "policy": policy_for(request.user),
        "rules": password_rules_for(request.user, required=bool(reason)),
        "change_allowed_from": password_change_allowed_from(request.user), "examples": PASSPHRASE_EXAMPLES,
    })


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE): Vietnamese, HTTP 429, and who to call."""
    return _lockout_page(request, username=counted_username((credentials or {}).get("username") or ""))


def _lockout_page(request, *, username):
    now = timezone.now()
    address_blocked = getattr(request, "signin_refusal", None) == "address_blocked"
    if address_blocked:
        ends_at = address_blocked_until(getattr(request, "axes_ip_address", None), now)
    else:
        ends_at = lockout_ends_at(username, now)
    seconds = max(1, math.ceil((ends_at - now).total_seconds())) if ends_at else 1
    response = render(request, "registration/lockout.html", {
        "address_blocked": address_blocked, "seconds": seconds, "minutes": math.ceil(seconds / 60),
    }, status=429)
    response["Retry-After"] = str(seconds)
    return response
