"""Logging in and out, one's own account, invitations and password reset."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app import access
from app.access import public
from app.auth import bp
from app.auth.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ProfileForm, SetPasswordForm
from app.auth.models import User
from app.auth.services import (
    AccountError,
    LoginRefused,
    accept_invitation,
    authenticate,
    change_password,
    end_sessions,
    normalise_email,
    request_password_reset,
    reset_password,
    role_label,
    update_profile,
)
from app.auth.tokens import load_token
from app.extensions import db, limiter
from app.security import safe_next


def _login_account_key() -> str:
    # Truncated: the key must not grow with whatever a client posts.
    return "login-account:" + normalise_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    # A successful login redirects; only failures count against the account.
    return response.status_code != 302


def _log_in(user: User, remember: bool | None = None) -> None:
    """Start (or restart, after a password change) the session of `user`.

    Its session id carries the session version, so a session started before
    a password change no longer loads; this one is started anew. A "remember
    me" cookie the browser had is renewed rather than dropped."""
    if remember is None:
        remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(user, remember=remember, fresh=True)
    session["lang"] = user.locale


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], scope="login-address")
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
def login():
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("main.home"))
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except LoginRefused as refused:
            refusal = refused.message
        else:
            access.set_scope(access.scope_for(user))  # the rest of the request is the user's
            db.session.commit()
            _log_in(user, remember=form.remember.data)
            return redirect(target or url_for("main.home"))
    return render_template("auth/login.html", form=form, refusal=refusal)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    """Log out here and on every other device (remember-me cookies included)."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash(_("Vous êtes déconnecté. Vos autres appareils ont été déconnectés aussi."), "info")
    return redirect(url_for("auth.login"))


# -- one's own account ----------------------------------------------------------


def _render_account(profile: ProfileForm | None = None, password: ChangePasswordForm | None = None):
    profile = profile or ProfileForm(formdata=None, obj=current_user)
    password = password or ChangePasswordForm(formdata=None)
    return render_template("auth/account.html", profile=profile, password=password, role_label=role_label)


def _show_error(form, error: AccountError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("/account", methods=["GET", "POST"])
def account():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            update_profile(user, name=form.name.data, locale=form.locale.data)
        except AccountError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            session["lang"] = user.locale
            flash(_("Vos informations ont été enregistrées."), "success")
            return redirect(url_for("auth.account"))
    return _render_account(profile=form)


@bp.route("/account/password", methods=["POST"], endpoint="change_password")
def change_own_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, current=form.current_password.data, new=form.password.data)
        except AccountError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            _log_in(user)  # this session goes on with the new session version
            flash(_("Votre mot de passe a été modifié. Vos autres appareils ont été déconnectés."), "success")
            return redirect(url_for("auth.account"))
    return _render_account(password=form)


# -- links sent by mail -----------------------------------------------------------


def _invalid_link(kind: str):
    """Expired, tampered or used links: a clear page, 404, nothing changed."""
    return render_template("auth/link_invalid.html", kind=kind), 404


def _set_password_from_link(token: str, purpose: str, service, template: str, welcome) -> object:
    """An invitation or a reset link: the password form, then log in. An
    expired, tampered or used link answers 404 and changes nothing."""
    user = load_token(token, purpose)
    if user is None:
        return _invalid_link(purpose)
    # The link speaks for its account: the request sees what that user may.
    access.set_scope(access.scope_for(user))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            service(user, form.password.data)
        except AccountError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            _log_in(user, remember=False)
            flash(welcome(user), "success")
            return redirect(url_for("main.home"))
    return render_template(template, form=form, user=user)


@bp.route("/invitation/<token>", methods=["GET", "POST"], endpoint="accept_invitation")
@public
def accept_invitation_view(token: str):
    return _set_password_from_link(
        token,
        "invitation",
        accept_invitation,
        "auth/invitation.html",
        lambda user: _("Bienvenue sur Relais, %(name)s ! Votre mot de passe est enregistré.", name=user.name),
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"], methods=["POST"], scope="password-forgot"
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether the address has an account or not.
        flash(
            _(
                "Si un compte actif correspond à %(email)s, un e-mail vient de lui être envoyé avec un lien "
                "pour choisir un nouveau mot de passe. Pensez à regarder dans les indésirables.",
                email=normalise_email(form.email.data),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
@public
def reset_password_view(token: str):
    return _set_password_from_link(
        token,
        "reset",
        reset_password,
        "auth/reset.html",
        lambda user: _("Votre mot de passe a été modifié. Vous êtes connecté."),
    )
