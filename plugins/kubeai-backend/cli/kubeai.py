#!/usr/bin/env python3
"""kubeai: register what a training run produced with the KubeAI portal.

Runs inside the pods the portal creates (training tasks, notebooks, pipeline steps), which carry
the run identity as environment variables:

  KUBEAI_API_URL         the KubeAI API, e.g. http://backstage:7007/api/kubeai
  KUBEAI_RUN_ID          the run this pod belongs to
  KUBEAI_MODEL           the run's model entity ref, e.g. model:default/shoe-brand
  KUBEAI_CLUSTER         the cluster's name in the portal
  KUBEAI_NAMESPACE       the run's namespace
  KUBEAI_RUN_TOKEN_FILE  a file holding the run-scoped bearer token (renewed by the portal)

Run by hand, set the same variables and KUBEAI_TOKEN (a Backstage token) instead of the file.

Python 3.7+ standard library only: pipeline steps run it as `python3 -c <source> <command> ...`
in a stock Python image, and training images bring nothing else.
"""

import argparse
import datetime
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PROG = "kubeai"
RETRIES = 3
RETRY_STATUS = (502, 503, 504)
TIMEOUT_SECONDS = 60


class CliError(Exception):
    """An error to print on stderr; `code` is the exit status."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


# --- inputs ---------------------------------------------------------------------------------


def env(name, required_for=None):
    value = os.environ.get(name, "").strip()
    if not value and required_for:
        raise CliError("%s is not set (needed for %s)" % (name, required_for), 2)
    return value or None


def parse_entity_ref(ref, kind, flag):
    """`[kind:][namespace/]name` as Backstage parses it; the namespace defaults to `default`."""
    text = (ref or "").strip()
    colon = text.find(":")
    slash = text.find("/")
    if slash != -1 and slash < colon:
        colon = -1  # a colon after the slash belongs to the name
    ref_kind = text[:colon] if colon != -1 else kind
    rest = text[colon + 1:] if colon != -1 else text
    namespace, _, name = rest.partition("/") if "/" in rest else ("default", "", rest)
    if not ref_kind or not namespace or not name or "/" in name:
        raise CliError("%s: %r is not an entity ref ([%s:][namespace/]name)" % (flag, ref, kind), 2)
    if ref_kind.lower() != kind:
        raise CliError("%s: %r is a %s, not a %s" % (flag, ref, ref_kind, kind), 2)
    return namespace, name


def json_input(value, flag):
    """FILE_OR_JSON: inline JSON when it starts with { or [, else a JSON file; "" is none."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    source = "inline JSON"
    if not text.startswith(("{", "[")):
        source = value
        try:
            with open(value, encoding="utf-8") as f:
                text = f.read()
        except OSError as error:
            raise CliError("%s: cannot read %s: %s" % (flag, value, error.strerror or error), 2)
    try:
        parsed = json.loads(text)
    except ValueError as error:
        raise CliError("%s: %s is not valid JSON: %s" % (flag, source, error), 2)
    if not isinstance(parsed, dict):
        raise CliError("%s: must be a JSON object, got %s" % (flag, type(parsed).__name__), 2)
    return parsed


def timestamp(value):
    if value is None:
        return None
    if value == "now":
        now = datetime.datetime.now(datetime.timezone.utc)
        return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value  # the API checks RFC 3339 and names the field


def non_negative_int(text):
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text)
    if number < 0:
        raise argparse.ArgumentTypeError("%r is negative" % text)
    return number


def percent(text):
    number = non_negative_int(text)
    if number > 100:
        raise argparse.ArgumentTypeError("%r is over 100" % text)
    return number


def compact(body):
    return {k: v for k, v in body.items() if v is not None and v != []}


# --- the API --------------------------------------------------------------------------------


def token():
    # read at every call: the portal renews the run's Secret and the kubelet updates the file
    explicit = env("KUBEAI_TOKEN")
    if explicit:
        return explicit
    path = env("KUBEAI_RUN_TOKEN_FILE")
    if not path:
        raise CliError("no credential: set KUBEAI_RUN_TOKEN_FILE (in a run's pod) or KUBEAI_TOKEN", 2)
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
    except OSError as error:
        raise CliError("cannot read the run credential %s: %s" % (path, error.strerror or error))
    if not value:
        raise CliError("the run credential %s is empty" % path)
    return value


def segment(value):
    return urllib.parse.quote(str(value), safe="")


def error_message(status, payload):
    try:
        body = json.loads(payload.decode("utf-8"))
        message = body["error"]["message"]
        if isinstance(message, str) and message:
            return message
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    text = payload.decode("utf-8", "replace").strip()
    return text[:500] or "HTTP %d" % status


def call(method, path, body):
    """One API call; retries connection errors and 502/503/504 (never a 4xx) with backoff."""
    base = env("KUBEAI_API_URL", "the API's address")
    url = base.rstrip("/") + path
    data = json.dumps(body).encode("utf-8")
    delay = float(os.environ.get("KUBEAI_RETRY_DELAY", "1"))
    attempt = 0
    while True:
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": "Bearer " + token(),
            "User-Agent": "kubeai-cli",
        })
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                payload = response.read()
            try:
                return json.loads(payload.decode("utf-8")) if payload.strip() else {}
            except ValueError:
                raise CliError("%s %s: the answer is not JSON: %.200r" % (method, url, payload))
        except urllib.error.HTTPError as error:
            payload = error.read()
            if error.code not in RETRY_STATUS or attempt >= RETRIES:
                raise CliError("%s %s: %d %s" % (method, url, error.code, error_message(error.code, payload)))
            reason = "%d %s" % (error.code, error_message(error.code, payload))
        except (urllib.error.URLError, ConnectionError, socket.timeout) as error:
            if attempt >= RETRIES:
                raise CliError("%s %s: %s" % (method, url, getattr(error, "reason", error)))
            reason = str(getattr(error, "reason", error))
        attempt += 1
        wait = delay * (2 ** (attempt - 1))
        sys.stderr.write("%s: %s %s: %s; retry %d of %d in %gs\n" % (PROG, method, url, reason, attempt, RETRIES, wait))
        time.sleep(wait)


def write_file(path, text):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# --- commands -------------------------------------------------------------------------------


def register(args):
    model = args.model or env("KUBEAI_MODEL", "register without --model")
    namespace, name = parse_entity_ref(model, "model", "--model")
    # all inputs are checked before anything is sent
    metrics = json_input(args.metrics, "--metrics")
    curves = json_input(args.curves, "--curves")
    params = json_input(args.params, "--params")
    artifact = compact({
        "uri": args.artifact,
        "format": args.format,
        "digest": args.digest,
        "size": args.size,
    })
    body = compact({
        "artifact": artifact,
        "framework": args.framework,
        "description": args.description,
        "metrics": metrics,
        "curves": curves,
        "params": params,
        "tags": args.tag,
        "aliases": args.alias,
        "runId": env("KUBEAI_RUN_ID"),
    })
    created = call("POST", "/models/%s/%s/versions" % (segment(namespace), segment(name)), body)
    if args.output:
        write_file(args.output, json.dumps(created, indent=2) + "\n")
    if args.version_file:
        write_file(args.version_file, str(created.get("version", "")))
    return created


def dataset_version(args):
    namespace, name = parse_entity_ref(args.dataset, "dataset", "DATASET_REF")
    body = compact({
        "version": args.version,
        "uri": args.uri,
        "digest": args.digest,
        "size": args.size,
        "description": args.description,
    })
    return call("POST", "/datasets/%s/%s/versions" % (segment(namespace), segment(name)), body)


def report(args):
    run_id = env("KUBEAI_RUN_ID", "report")
    body = compact({
        "phase": args.phase,
        "message": args.message,
        "metrics": json_input(args.metrics, "--metrics"),
        "startedAt": timestamp(args.started_at),
        "finishedAt": timestamp(args.finished_at),
    })
    if not body:
        raise CliError("report: nothing to report (give --phase, --message, --metrics, --started-at or --finished-at)", 2)
    return call("PATCH", "/runs/%s" % segment(run_id), body)


def model_version(text):
    # a version number goes as a number, anything else is an alias
    return int(text) if text.isdigit() else text


def deploy(args):
    extra = json_input(args.extra, "--extra") or {}
    body = {
        "cluster": extra.get("cluster") or env("KUBEAI_CLUSTER", "deploy"),
        "namespace": extra.get("namespace") or env("KUBEAI_NAMESPACE", "deploy"),
        "model": extra.get("model") or env("KUBEAI_MODEL", "deploy"),
    }
    body.update(extra)
    body.update(compact({
        "name": args.service,
        "modelVersion": model_version(args.model_version),
        "canaryTrafficPercent": args.canary,
        "message": args.message,
    }))
    return call("POST", "/inference-services", body)


def promote(args):
    cluster = env("KUBEAI_CLUSTER", "promote")
    namespace = env("KUBEAI_NAMESPACE", "promote")
    path = "/inference-services/%s/%s/%s/promote" % (segment(cluster), segment(namespace), segment(args.service))
    return call("POST", path, compact({"message": args.message}))


# --- command line ---------------------------------------------------------------------------

FILE_OR_JSON = "inline JSON when it starts with { or [, else a JSON file; empty means none"


def parser():
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Register model and dataset versions, report the run, roll out, from inside a KubeAI run.",
        epilog="Environment: KUBEAI_API_URL, KUBEAI_RUN_ID, KUBEAI_MODEL, KUBEAI_CLUSTER, KUBEAI_NAMESPACE, "
        "KUBEAI_RUN_TOKEN_FILE (or KUBEAI_TOKEN). Connection errors and 502/503/504 are retried %d times "
        "(KUBEAI_RETRY_DELAY seconds, doubling)." % RETRIES,
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser("register", help="register a model version produced by this run",
                            description="POST /models/{namespace}/{name}/versions with this run's id; "
                            "prints the created version as JSON.")
    p.add_argument("--artifact", required=True, metavar="URI", help="where the model files are (s3://, oss://, pvc://, hf://, https://)")
    p.add_argument("--format", required=True, metavar="FMT", help="onnx, safetensors, torchscript, savedmodel, pickle, ...")
    p.add_argument("--framework", metavar="F", help="pytorch, tensorflow, xgboost, ...")
    p.add_argument("--digest", metavar="D", help="artifact digest, <algorithm>:<hex>")
    p.add_argument("--size", type=non_negative_int, metavar="N", help="artifact size in bytes")
    p.add_argument("--metrics", metavar="FILE_OR_JSON", help="metrics object {name: number}; " + FILE_OR_JSON)
    p.add_argument("--curves", metavar="FILE_OR_JSON", help='curves {"roc": [{fpr, tpr}], "pr": [{precision, recall}]}; ' + FILE_OR_JSON)
    p.add_argument("--params", metavar="FILE_OR_JSON", help="parameters {name: string|number|boolean}; " + FILE_OR_JSON)
    p.add_argument("--alias", action="append", default=[], metavar="A", help="alias to move to this version (repeatable)")
    p.add_argument("--tag", action="append", default=[], metavar="T", help="tag (repeatable)")
    p.add_argument("--description", metavar="D")
    p.add_argument("--model", metavar="REF", help="model entity ref (default $KUBEAI_MODEL)")
    p.add_argument("--output", metavar="FILE", help="also write the created version JSON here")
    p.add_argument("--version-file", metavar="FILE", help="write the new version number here")
    p.set_defaults(run=register)

    p = commands.add_parser("dataset-version", help="record a dataset version this run read",
                            description="POST /datasets/{namespace}/{name}/versions; the version becomes "
                            "an input of this run. Prints the dataset version as JSON.")
    p.add_argument("dataset", metavar="DATASET_REF", help="dataset entity ref ([dataset:][namespace/]name)")
    p.add_argument("--version", required=True, metavar="V", help="version name (v3, 2026-11-01, ...)")
    p.add_argument("--uri", required=True, metavar="URI", help="where the data of this version is")
    p.add_argument("--digest", metavar="D", help="content digest, <algorithm>:<hex>")
    p.add_argument("--size", type=non_negative_int, metavar="N", help="size in bytes")
    p.add_argument("--description", metavar="D")
    p.set_defaults(run=dataset_version)

    p = commands.add_parser("report", help="report this run's phase, message, metrics and times",
                            description="PATCH /runs/$KUBEAI_RUN_ID; prints the run as JSON.")
    p.add_argument("--phase", choices=["Pending", "Running", "Succeeded", "Failed", "Stopped", "Unknown"])
    p.add_argument("--message", metavar="M")
    p.add_argument("--metrics", metavar="FILE_OR_JSON", help="metrics object {name: number}; " + FILE_OR_JSON)
    p.add_argument("--started-at", metavar="TS", help="RFC 3339 timestamp, or now")
    p.add_argument("--finished-at", metavar="TS", help="RFC 3339 timestamp, or now")
    p.set_defaults(run=report)

    p = commands.add_parser("deploy", help="deploy a version of the run's model to an InferenceService",
                            description="POST /inference-services in $KUBEAI_CLUSTER / $KUBEAI_NAMESPACE "
                            "with model $KUBEAI_MODEL; prints what was applied and recorded.")
    p.add_argument("--service", required=True, metavar="NAME", help="InferenceService name")
    p.add_argument("--model-version", required=True, metavar="V", help="version number or alias")
    p.add_argument("--canary", type=percent, metavar="PERCENT", help="roll out as a canary with this traffic share")
    p.add_argument("--message", metavar="M", help="why (recorded with the deployment revision)")
    p.add_argument("--extra", metavar="FILE_OR_JSON",
                   help="more DeployInferenceServiceRequest fields (resources, env, runtime, ...); " + FILE_OR_JSON)
    p.set_defaults(run=deploy)

    p = commands.add_parser("promote", help="promote the canary of an InferenceService to all the traffic",
                            description="POST /inference-services/$KUBEAI_CLUSTER/$KUBEAI_NAMESPACE/NAME/promote.")
    p.add_argument("--service", required=True, metavar="NAME", help="InferenceService name")
    p.add_argument("--message", metavar="M", help="why (recorded with the deployment revision)")
    p.set_defaults(run=promote)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        result = args.run(args)
    except CliError as error:
        sys.stderr.write("%s %s: %s\n" % (PROG, args.command, error))
        return error.code
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
