"""Pages for clinic settings, the team, therapist profiles and licences."""

import uuid
from datetime import UTC

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from backcare.accounts import queries, services
from backcare.accounts.context import SESSION_KEY, clinic_context
from backcare.accounts.forms import (
    ActiveForm,
    ApiTokenForm,
    ClinicForm,
    ClinicSwitchForm,
    InvitationAnswerForm,
    LicenceForm,
    MemberForm,
    RoomForm,
    TherapistProfileForm,
    WebhookEndpointForm,
)
from backcare.accounts.licensing import LicenceStatus
from backcare.accounts.models import Role
from backcare.core.errors import InvalidInputError
from backcare.core.http import UNPROCESSABLE, render_form, render_refusal


@login_required
@require_POST
def clinic_switch(request: HttpRequest) -> HttpResponse:
    ctx = clinic_context(request)
    form = ClinicSwitchForm(request.POST, allowed=ctx.clinics)
    if not form.is_valid():
        queries.deny(
            request.user, action="clinic.switch", object_id=request.POST.get("clinic", "")[:64]
        )
        message = "Choose one of your clinics from the list."
        return render(
            request,
            "error.html",
            {"message": message, "status": UNPROCESSABLE},
            status=UNPROCESSABLE,
        )
    request.session[SESSION_KEY] = str(form.cleaned_data["clinic"].pk)
    messages.success(request, f"You are now working in {form.cleaned_data['clinic'].name}.")
    return redirect("dashboard")


# --- Clinic settings and rooms ------------------------------------------------------------------


def _settings_page(
    request: HttpRequest, clinic_form: ClinicForm, room_form: RoomForm, *, invalid: bool
) -> HttpResponse:
    clinic = clinic_context(request).clinic
    context = {
        "clinic_form": clinic_form,
        "room_form": room_form,
        "rooms": queries.list_rooms(request.user, clinic),
    }
    return render_form(request, "accounts/clinic_settings.html", context, invalid=invalid)


@login_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request: HttpRequest) -> HttpResponse:
    clinic = queries.get_clinic_for_admin(request.user, clinic_context(request).clinic)
    if request.method == "GET":
        return _settings_page(
            request, ClinicForm(initial=model_to_dict(clinic)), RoomForm(), invalid=False
        )
    form = ClinicForm(request.POST)
    if form.is_valid():
        try:
            services.update_clinic(actor=request.user, clinic=clinic, **form.cleaned_data)
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Clinic details saved.")
            return redirect("clinic_settings")
    return _settings_page(request, form, RoomForm(), invalid=True)


@login_required
@require_POST
def room_add(request: HttpRequest) -> HttpResponse:
    clinic = queries.get_clinic_for_admin(request.user, clinic_context(request).clinic)
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            room = services.add_room(
                actor=request.user, clinic=clinic, name=form.cleaned_data["name"]
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Room “{room.name}” added.")
            return redirect("clinic_settings")
    return _settings_page(request, ClinicForm(initial=model_to_dict(clinic)), form, invalid=True)


@login_required
@require_POST
def room_set_active(request: HttpRequest, room_id: uuid.UUID) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = ActiveForm(request.POST)
    if not form.is_valid():
        queries.get_room(request.user, clinic, room_id)  # a stranger still gets the audited 404
        return _refuse_bad_choice(request, "clinic_settings")
    active = bool(form.cleaned_data["active"])
    room = services.set_room_active(
        actor=request.user, clinic=clinic, room_id=room_id, active=active
    )
    messages.success(request, f"Room “{room.name}” is {'in use' if active else 'out of use'}.")
    return redirect("clinic_settings")


def _refuse_bad_choice(request: HttpRequest, back: str) -> HttpResponse:
    error = InvalidInputError("Use the buttons on the page: the choice was missing or unknown.")
    return render_refusal(request, error, back_url=reverse(back))


# --- Team ---------------------------------------------------------------------------------------


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    ctx = clinic_context(request)
    team = queries.list_team(request.user, ctx.clinic)
    return render(
        request, "accounts/team_list.html", {"team": team, "can_manage": ctx.has(Role.CLINIC_ADMIN)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    clinic = queries.get_clinic_for_admin(request.user, clinic_context(request).clinic)
    form = MemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.add_member(
                actor=request.user,
                clinic=clinic,
                site_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            # The typed address, not the account's stored name: that is the person's to reveal.
            messages.success(request, f"Invitation sent to {membership.user.email}.")
            return redirect("team_list")
    return render_form(
        request, "accounts/member_add.html", {"form": form}, invalid=request.method == "POST"
    )


@login_required
@require_POST
def membership_set_active(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = ActiveForm(request.POST)
    if not form.is_valid():
        queries.get_membership(request.user, clinic, membership_id)
        return _refuse_bad_choice(request, "team_list")
    active = bool(form.cleaned_data["active"])
    try:
        membership = services.set_membership_active(
            actor=request.user, clinic=clinic, membership_id=membership_id, active=active
        )
    except InvalidInputError as error:
        return render_refusal(request, error, back_url=reverse("team_list"))
    verb = "restored" if active else "ended"
    messages.success(
        request, f"{membership.get_role_display()} role of {membership.user.email} {verb}."
    )
    return redirect("team_list")


@login_required
@require_POST
def invitation_answer(request: HttpRequest, membership_id: uuid.UUID) -> HttpResponse:
    form = InvitationAnswerForm(request.POST)
    if not form.is_valid():
        queries.get_invitation(request.user, membership_id)
        return _refuse_bad_choice(request, "dashboard")
    accept = form.cleaned_data["answer"] == "accept"
    membership = services.answer_invitation(
        actor=request.user, membership_id=membership_id, accept=accept
    )
    if accept:
        request.session[SESSION_KEY] = str(membership.clinic_id)
        messages.success(request, f"You joined {membership.clinic.name}.")
    else:
        messages.success(request, f"You declined the invitation from {membership.clinic.name}.")
    return redirect("dashboard")


# --- Therapists and licences ----------------------------------------------------------------------


@login_required
def licence_list(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("status", "")
    status = LicenceStatus(raw) if raw in {s.value for s in LicenceStatus} else None
    if raw and status is None:
        return render(
            request,
            "error.html",
            {
                "message": "Unknown licence status. Choose one of the filters on the page.",
                "status": 400,
            },
            status=400,
        )
    rows = queries.list_licences(request.user, clinic_context(request).clinic, status=status)
    return render(
        request,
        "accounts/licence_list.html",
        {"rows": rows, "status": status, "statuses": list(LicenceStatus)},
    )


@login_required
def therapist_list(request: HttpRequest) -> HttpResponse:
    rows = queries.list_therapists(request.user, clinic_context(request).clinic)
    return render(request, "accounts/therapist_list.html", {"rows": rows})


@login_required
def therapist_detail(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    ctx = clinic_context(request)
    on = ctx.clinic.local_date() if ctx.clinic else timezone.localdate()
    profile = queries.get_therapist_profile(request.user, therapist_id, on=on)
    context = {
        "therapist": profile.therapist,
        "profile": profile,
        "is_self": profile.therapist.user_id == request.user.pk,
        "is_admin": ctx.has(Role.CLINIC_ADMIN),
        # Hours and time off are per clinic: offered where the therapist works now.
        "works_here": ctx.clinic is not None
        and ctx.clinic.pk in queries.therapist_clinic_ids(profile.therapist),
    }
    return render(request, "accounts/therapist_detail.html", context)


@login_required
def my_therapist_profile(request: HttpRequest) -> HttpResponse:
    therapist = queries.get_own_therapist(request.user)
    return redirect("therapist_detail", therapist_id=therapist.pk)


@login_required
@require_http_methods(["GET", "POST"])
def therapist_edit(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    therapist = queries.get_therapist(request.user, therapist_id, for_change=True)
    if request.method == "GET":
        form = TherapistProfileForm(initial=model_to_dict(therapist))
        return render(
            request, "accounts/therapist_edit.html", {"form": form, "therapist": therapist}
        )
    form = TherapistProfileForm(request.POST)
    if form.is_valid():
        try:
            services.save_therapist_profile(
                actor=request.user, therapist_id=therapist.pk, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("therapist_detail", therapist_id=therapist.pk)
    return render(
        request,
        "accounts/therapist_edit.html",
        {"form": form, "therapist": therapist},
        status=UNPROCESSABLE,
    )


@login_required
@require_http_methods(["GET", "POST"])
def licence_add(request: HttpRequest, therapist_id: uuid.UUID) -> HttpResponse:
    therapist = queries.get_therapist(request.user, therapist_id, for_change=True)
    form = LicenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_licence(actor=request.user, therapist_id=therapist.pk, **form.cleaned_data)
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request, "Licence recorded. It must be verified before the therapist can be booked."
            )
            return redirect("therapist_detail", therapist_id=therapist.pk)
    context = {"form": form, "therapist": therapist, "licence": None}
    return render_form(
        request, "accounts/licence_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    licence = queries.get_licence(request.user, licence_id)
    if request.method == "GET":
        form = LicenceForm(initial=model_to_dict(licence))
    else:
        form = LicenceForm(request.POST)
        if form.is_valid():
            try:
                services.update_licence(
                    actor=request.user, licence_id=licence.pk, **form.cleaned_data
                )
            except InvalidInputError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, "Licence saved.")
                return redirect("therapist_detail", therapist_id=licence.therapist_id)
    context = {"form": form, "therapist": licence.therapist, "licence": licence}
    return render_form(
        request, "accounts/licence_form.html", context, invalid=request.method == "POST"
    )


@login_required
@require_POST
def licence_verify(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    licence = services.verify_licence(actor=request.user, licence_id=licence_id)
    messages.success(request, f"Licence {licence.number} verified.")
    next_url = request.POST.get("next", "")
    if next_url == "licences":
        return redirect(reverse("licence_list"))
    return redirect("therapist_detail", therapist_id=licence.therapist_id)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in person's API tokens: make one for the current clinic (the token is shown
    on this answer only), see when each was last used."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    token = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, token = services.create_api_token(
                actor=request.user,
                clinic=clinic_context(request).clinic,
                name=form.cleaned_data["name"],
                scopes=[form.cleaned_data["access"]],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "token": token,
        "tokens": queries.list_api_tokens(request.user),
        "api_url": request.build_absolute_uri("/api/v1/"),
    }
    response = render_form(
        request, "accounts/api_tokens.html", context, invalid=request.method == "POST" and not token
    )
    if token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    """Revoke one of the signed-in person's tokens: it answers 401 from now on."""
    row = services.revoke_api_token(actor=request.user, token_id=token_id)
    messages.success(request, f"The token {row.name} no longer works.")
    return redirect("api_tokens")


# --- Webhooks (decision 0022) --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def webhook_endpoints(request: HttpRequest) -> HttpResponse:
    """The clinic's webhook endpoints and a form to register one (its signing secret is shown
    on this answer only). Clinic admins only."""
    clinic = clinic_context(request).clinic
    endpoints = queries.list_webhook_endpoints(request.user, clinic)
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.register_webhook_endpoint(
                actor=request.user, clinic=clinic, **form.cleaned_data
            )
        except InvalidInputError as error:
            form.add_domain_error(error)
        else:
            form = WebhookEndpointForm()
            endpoints = [endpoint, *endpoints]
    context = {"form": form, "secret": secret, "endpoints": endpoints}
    response = render_form(
        request,
        "accounts/webhook_endpoints.html",
        context,
        invalid=request.method == "POST" and not secret,
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def webhook_endpoint_set_active(request: HttpRequest, endpoint_id: uuid.UUID) -> HttpResponse:
    clinic = clinic_context(request).clinic
    form = ActiveForm(request.POST)
    if not form.is_valid():
        queries.get_webhook_endpoint(request.user, clinic, endpoint_id, action="webhook.update")
        return _refuse_bad_choice(request, "webhook_endpoints")
    active = bool(form.cleaned_data["active"])
    endpoint = services.set_webhook_endpoint_active(
        actor=request.user, clinic=clinic, endpoint_id=endpoint_id, active=active
    )
    state = "enabled" if active else "disabled: it gets no more events"
    messages.success(request, f"The endpoint {endpoint.url} is {state}.")
    return redirect("webhook_endpoints")


@login_required
def webhook_deliveries(request: HttpRequest, endpoint_id: uuid.UUID) -> HttpResponse:
    """The delivery log of one endpoint: event, status, tries, last answer and next try."""
    clinic = clinic_context(request).clinic
    endpoint, deliveries = queries.list_webhook_deliveries(request.user, clinic, endpoint_id)
    zone = clinic.zone if clinic else UTC  # the query let the viewer in: there is a clinic
    context = {"endpoint": endpoint, "deliveries": deliveries, "zone": zone}
    with timezone.override(zone):  # times as the clinic reads them
        return render(request, "accounts/webhook_deliveries.html", context)
