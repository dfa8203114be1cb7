"""What every Tally function shares, written once: runtime, architecture, logging, tracing,
the dependencies layer, the code, the shared environment and one role per function; and how
any dependencies layer is built (``dependencies_layer``). Layers and code carry bytecode when
this machine has a Python of the runtime's version (infra/bundling.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

from aws_cdk import Annotations, AssetHashType, BundlingOptions, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.bundling import (
    FUNCTIONS_DIR,
    LAMBDA_PYTHON_ENV,
    LAYERS_DIR,
    OBSERVABILITY_LAYER,
    PYTHON_VERSION,
    SHARED_LAYER,
    LambdaPython,
    LayerSpec,
    LocalBundling,
    build_functions,
    build_layer,
    find_lambda_python,
    functions_asset_hash,
    layer_asset_hash,
)

# The newest Python runtime aws-cdk-lib knows; AwsSolutions-L1 accepts nothing older.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Every function's environment names the deployed code's version here.
VERSION_VARIABLE = "TALLY_VERSION"
# tally.observability's settings: the X-Ray SDK off (Powertools' own variable), the Sentry DSN.
TRACE_DISABLED_VARIABLE = "POWERTOOLS_TRACE_DISABLED"
SENTRY_DSN_SECRET_VARIABLE = "TALLY_SENTRY_DSN_SECRET"  # noqa: S105 - names the secret
# The id of the stack's warning when the bundles go without bytecode.
NO_BYTECODE_WARNING = "tally:bundles-without-bytecode"


@dataclass(frozen=True)
class TallyFunction:
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup


class FunctionRuntime(Construct):
    """The dependencies layer and the defaults of every function.

    ``new_function`` is the only way the stack creates a Lambda function, so a default changed
    here changes for all of them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_retention_days: int,
        environment: Mapping[str, str],
        sentry_dsn_secret_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._log_retention = log_retention(log_retention_days)
        self.layer = dependencies_layer(
            self,
            "Dependencies",
            spec=SHARED_LAYER,
            description="Tally: the tally package and its third-party dependencies (no boto3)",
        )
        self.observability_layer = dependencies_layer(
            self,
            "Observability",
            spec=OBSERVABILITY_LAYER,
            description="Tally: the X-Ray SDK and Sentry's, for the functions with room for them",
        )
        # Sentry's DSN: only its name is configuration; each function with the layer reads it.
        self.sentry_dsn_secret = (
            secretsmanager.Secret.from_secret_name_v2(self, "SentryDsn", sentry_dsn_secret_name)
            if sentry_dsn_secret_name
            else None
        )
        python = bytecode_compiler(self)
        code_hash = functions_asset_hash(python)
        # The deployed code's version (the API's ETags, the health route, error reports): it
        # changes with the functions' code and the shared layer, as their assets do.
        version = sha256(f"{code_hash} {layer_asset_hash(SHARED_LAYER, python)}".encode())
        self._environment = {**environment, VERSION_VARIABLE: version.hexdigest()[:12]}
        self._code = lambda_.Code.from_asset(
            str(FUNCTIONS_DIR),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=code_hash,
            bundling=_local_only(LocalBundling(lambda out: build_functions(out, python))),
        )

    def new_function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        service: str,
        memory_size: int,
        timeout: Duration,
        environment: Mapping[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        extra_layers: Sequence[lambda_.ILayerVersion] = (),
        observability: bool = True,
    ) -> TallyFunction:
        """A function with its own role and log group; grant it what it needs, nothing else.

        Every function gets the shared dependencies layer; ``extra_layers`` come after it, for
        dependencies only this function needs. With ``observability`` it gets the X-Ray SDK and
        Sentry's layer too (and the DSN secret, when configured); without, Powertools' Tracer
        is told the SDK is absent (Lambda's active tracing still records its segment).
        """
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=self._log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Tally {service} function",
        )
        # In place of AWSLambdaBasicExecutionRole: write to this function's log group only.
        log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            construct_id,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self._code,
            layers=[
                self.layer,
                *extra_layers,
                *([self.observability_layer] if observability else []),
            ],
            role=role,
            memory_size=memory_size,
            timeout=timeout,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            dead_letter_queue=dead_letter_queue,
            environment={
                **self._environment,
                "POWERTOOLS_SERVICE_NAME": f"tally-{service}",
                **self._observability_environment(observability),
                **(environment or {}),
            },
        )
        if observability and self.sentry_dsn_secret is not None:
            self.sentry_dsn_secret.grant_read(role)
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, "
            "which support no resource-level permissions; the role has no other '*' resource "
            "(tests/infra/test_iam.py checks it).",
        )
        return TallyFunction(function=function, role=role, log_group=log_group)

    def _observability_environment(self, observability: bool) -> dict[str, str]:
        if not observability:
            return {TRACE_DISABLED_VARIABLE: "true"}
        if self.sentry_dsn_secret is None:
            return {}
        return {SENTRY_DSN_SECRET_VARIABLE: self.sentry_dsn_secret.secret_name}


def dependencies_layer(
    scope: Construct, construct_id: str, *, spec: LayerSpec, description: str
) -> lambda_.LayerVersion:
    """A layer for the functions' runtime and architecture, built here by pip from ``spec``."""
    python = bytecode_compiler(scope)
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description=description,
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        code=lambda_.Code.from_asset(
            # Only nominal for a layer without a package: the content comes from pip, and the
            # hash from the spec.
            str(LAYERS_DIR),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=layer_asset_hash(spec, python),
            bundling=_local_only(LocalBundling(lambda out: build_layer(out, spec, python))),
        ),
    )


def _local_only(local: LocalBundling) -> BundlingOptions:
    return BundlingOptions(
        image=RUNTIME.bundling_image,
        local=local,
        # Only reached if local bundling is bypassed: say so instead of building a bundle that
        # would silently lack its requirements (they are outside layers/) or its bytecode.
        command=["bash", "-c", "echo 'Tally bundles its code and layers locally' >&2; exit 1"],
    )


def bytecode_compiler(scope: Construct) -> LambdaPython | None:
    """The interpreter that compiles the bundles, or None and one warning on the stack (CDK
    keeps an identical annotation once, however many bundles ask)."""
    python = find_lambda_python()
    if python is None:
        Annotations.of(Stack.of(scope)).add_warning_v2(
            NO_BYTECODE_WARNING,
            f"The Lambda bundles carry no bytecode: no Python {PYTHON_VERSION} was found, so "
            "every cold start compiles the dependencies and Tally's code from source (about a "
            f"second on the API). Install Python {PYTHON_VERSION} (python{PYTHON_VERSION} on "
            f"PATH) or set {LAMBDA_PYTHON_ENV} to one, then deploy again (docs/deploy.md).",
        )
    return python


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS, 2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}  # fmt: skip


def log_retention(days: int) -> logs.RetentionDays:
    """CDK's enum for a retention in days (``TallyConfig`` has already checked the value)."""
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"{days} days is not a CloudWatch Logs retention period") from None
