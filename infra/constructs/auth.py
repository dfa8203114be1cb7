"""Who may sign in: the Cognito user pool, its two groups, the dashboard's app client and the
first administrator."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import nag
from infra.names import (
    GROUP_PRECEDENCE,
    PASSWORD_MIN_LENGTH,
    TEMPORARY_PASSWORD_VALIDITY_DAYS,
)
from tally.identity import check_group_name
from tally.mfa import REQUIRE_ADMIN_MFA_VARIABLE
from tally.tables import ADMIN_GROUP, USER_GROUP

GROUP_DESCRIPTIONS = {
    ADMIN_GROUP: "Tally admins: every user's costs, assignments and budgets",
    USER_GROUP: "Tally users: their own costs, assignments and budgets",
}


class Auth(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_email: str,
        require_mfa: bool,
        require_admin_mfa: bool,
        dashboard_url: str,
        ses_sender: str | None,
    ) -> None:
        """``ses_sender``: send Cognito's emails (invitations, codes) through SES from this
        verified address; ``None`` keeps Cognito's own sender, limited to 50 emails a day.
        ``require_mfa``: TOTP for everyone (Cognito's own MFA "on"); ``require_admin_mfa``:
        TOTP for admins only, which Cognito cannot express per group, so the API enforces it
        (``enforce_admin_mfa``, ``tally.mfa``)."""
        super().__init__(scope, construct_id)
        self.require_admin_mfa = require_admin_mfa
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{Stack.of(self).stack_name}-users",
            # An organisation tool: administrators invite people; nobody signs themselves up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # A changed address takes effect only once verified, so alerts keep reaching a
            # mailbox the user controls.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(TEMPORARY_PASSWORD_VALIDITY_DAYS),
            ),
            mfa=cognito.Mfa.REQUIRED if require_mfa else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Lite has everything used here (passwords, TOTP, groups) and the lowest price per
            # monthly active user beyond the free tier.
            feature_plan=cognito.FeaturePlan.LITE,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="Your Tally account",
                email_body=(
                    "You have been invited to Tally, your organisation's AWS cost dashboard.<br>"
                    "Sign in at " + dashboard_url + " as {username} with the temporary "
                    "password {####} and choose your own password."
                ),
            ),
            email=(
                cognito.UserPoolEmail.with_ses(
                    from_email=ses_sender, from_name="Tally", ses_region=Stack.of(self).region
                )
                if ses_sender
                else cognito.UserPoolEmail.with_cognito()
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan (threat protection) is billed per monthly active user with "
            "no free tier; it is the operator's choice, made in the Cognito console, not a "
            "default of this stack (which uses Lite).",
        )
        if not require_mfa:
            nag.acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                "MFA (TOTP, no SMS) is offered to every user, who can turn it on in the "
                "dashboard; Cognito cannot require it for one group, so "
                + (
                    "the API refuses admin rights to an admin without TOTP (requireAdminMfa)"
                    if require_admin_mfa
                    else "requireAdminMfa (off in this deployment) would make the API "
                    "refuse admin rights to an admin without TOTP"
                )
                + "; requireMfa makes it mandatory for everyone.",
            )

        self.groups = {
            name: cognito.CfnUserPoolGroup(
                self,
                f"{name.title()}Group",
                user_pool_id=self.user_pool.user_pool_id,
                # Refused at synth: a name with a delimiter could read as two groups.
                group_name=check_group_name(name),
                precedence=GROUP_PRECEDENCE[name],
                description=GROUP_DESCRIPTIONS[name],
            )
            for name in (ADMIN_GROUP, USER_GROUP)
        }

        self.dashboard_client = self.user_pool.add_client(
            "DashboardClient",
            user_pool_client_name="dashboard",
            generate_secret=False,  # a browser cannot keep a secret
            # USER_PASSWORD_AUTH is what the local stack (moto) offers, so the dashboard signs in
            # the same way on both; SRP stays available for clients that prefer it.
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            disable_o_auth=True,  # no hosted UI: the dashboard has its own sign-in form
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(7),
            # Users may edit their name; the email is changed by an administrator.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )

        # The first administrator. Cognito emails a temporary password. RETAIN, so that
        # changing adminEmail later adds an administrator instead of deleting the first one.
        admin = cognito.CfnUserPoolUser(
            self,
            "FirstAdmin",
            user_pool_id=self.user_pool.user_pool_id,
            username=admin_email,
            desired_delivery_mediums=["EMAIL"],
            user_attributes=[
                cognito.CfnUserPoolUser.AttributeTypeProperty(name="email", value=admin_email),
                cognito.CfnUserPoolUser.AttributeTypeProperty(name="email_verified", value="true"),
            ],
        )
        admin.apply_removal_policy(RemovalPolicy.RETAIN)
        membership = cognito.CfnUserPoolUserToGroupAttachment(
            self,
            "FirstAdminMembership",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=ADMIN_GROUP,
            username=admin_email,
        )
        # The attachment names the user and group as plain strings, not references.
        membership.node.add_dependency(admin, self.groups[ADMIN_GROUP])

    def enforce_admin_mfa(self, api_function: lambda_.Function) -> None:
        """Tell the API whether admins need TOTP, and let it ask the pool (``AdminGetUser``'s
        ``UserMFASettingList``) whether an admin has it on."""
        api_function.add_environment(
            REQUIRE_ADMIN_MFA_VARIABLE, "true" if self.require_admin_mfa else "false"
        )
        if self.require_admin_mfa:
            self.user_pool.grant(api_function, "cognito-idp:AdminGetUser")
