"""The Kubernetes and KServe manifests in deploy/kubernetes/, checked offline (no cluster, no
network, no server):

- core kinds (Deployment, Service) with kubernetes-validate, which ships Kubernetes' own JSON
  schemas, in strict mode (a field Kubernetes does not know is an error);
- KServe's kinds (ServingRuntime, InferenceService) with jsonschema against the schemas that
  scripts/kserve-crd-schemas.py extracted from KServe's CRDs (deploy/kubernetes/schemas/), plus a
  walk that rejects any field the schema does not list: the API server would silently drop such
  a field (pruning), so a misspelled `protocolVersoin` would be lost without an error;
- the facts the deployment relies on: the container KServe looks for, the probe paths, the
  model formats and protocol, the {{.Name}} argument, the image's user and writable folder.
"""

import copy
import importlib.util
import json
import pathlib
import re
import socket

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
SCHEMAS = DEPLOY / "schemas"
CONTAINERFILE = ROOT / "container" / "Containerfile"
BUILD_IMAGE = ROOT / "scripts" / "build-image.sh"

# The Kubernetes release whose schemas the core kinds are checked against: KServe v0.20.0 (the
# release the KServe schemas come from) pins Kubernetes 1.34's API packages (go.mod: k8s.io/api
# => v0.34.5). Given explicitly, so a newer kubernetes-validate does not move the target.
KUBERNETES_VERSION = "1.34.0"

# Knative (KServe's serverless mode) accepts one container port, named one of these, and keeps
# these ports for its queue-proxy sidecar.
KNATIVE_PORT_NAMES = {"http1", "h2c"}
KNATIVE_RESERVED_PORTS = {8008, 8012, 8013, 8022, 9090, 9091}
MODEL_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
RESERVED_MODEL_NAMES = {"ping", "api-description", "statistics", "metrics", "models", "health", "v1", "v2"}


def documents(name):
    with open(DEPLOY / name) as file:
        return [document for document in yaml.safe_load_all(file) if document]


def only(name, kind):
    found = [document for document in documents(name) if document["kind"] == kind]
    assert len(found) == 1, f"{name}: expected one {kind}, found {len(found)}"
    return found[0]


def kserve_schema(kind):
    stored = json.loads((SCHEMAS / f"{kind.lower()}.json").read_text())
    return stored["source"], stored["schema"]


def container_named(containers, name):
    matches = [container for container in containers if container["name"] == name]
    assert len(matches) == 1, f"no single container named {name}: {[c['name'] for c in containers]}"
    return matches[0]


# --- the strict walk ------------------------------------------------------------------------


def schema_properties(schema):
    """The fields a schema lists, its own and those of its allOf / anyOf / oneOf branches."""
    properties = dict(schema.get("properties", {}))
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            properties.update(schema_properties(branch))
    return properties


def unknown_fields(value, schema, path="$"):
    """Paths of the fields in `value` that `schema` does not know, as the API server sees them:
    an object keeps only the fields its schema lists, unless the schema has additionalProperties
    (a map) or x-kubernetes-preserve-unknown-fields. The top-level metadata is the API server's
    own ObjectMeta (the CRD says only `type: object`); check_metadata checks it."""
    problems = []
    if isinstance(value, dict):
        properties = schema_properties(schema)
        additional = schema.get("additionalProperties")
        keeps_unknown = schema.get("x-kubernetes-preserve-unknown-fields") is True or additional is True
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in properties:
                if where == "$.metadata" or (embedded and key == "metadata"):
                    continue
                problems += unknown_fields(item, properties[key], where)
            elif isinstance(additional, dict):
                problems += unknown_fields(item, additional, where)
            elif keeps_unknown or (embedded and key in ("apiVersion", "kind", "metadata")):
                continue
            else:
                problems.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += unknown_fields(item, schema["items"], f"{path}[{index}]")
    return problems


def check_metadata(document):
    """A KServe document's metadata against Kubernetes' ObjectMeta (strict): its CRD schema says
    only `type: object`. A ConfigMap carries nothing else, so only the metadata is checked."""
    kubernetes_validate.validate(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": document["metadata"]}, KUBERNETES_VERSION, strict=True
    )


def validate_kserve(document):
    """Every check a KServe document gets; raises on the first kind of failure found."""
    source, schema = kserve_schema(document["kind"])
    assert document["apiVersion"] == source["apiVersion"], (document["apiVersion"], source["apiVersion"])
    jsonschema.Draft4Validator(schema).validate(document)
    unknown = unknown_fields(document, schema)
    if unknown:
        raise AssertionError(f"{document['kind']} {document['metadata'].get('name')}: fields the schema does not have: {unknown}")
    check_metadata(document)


# --- kubernetes-validate and the stored schemas themselves ----------------------------------


def test_kubernetes_validate_has_the_version_and_works_offline(monkeypatch):
    assert KUBERNETES_VERSION in kubernetes_validate.utils.all_versions()

    def no_network(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    for document in documents("deployment.yaml"):
        assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True) == "1.34"


@pytest.mark.parametrize("kind, api_version", [("ServingRuntime", "serving.kserve.io/v1alpha1"), ("InferenceService", "serving.kserve.io/v1beta1")])
def test_stored_kserve_schemas_say_where_they_come_from_and_hold_no_prose(kind, api_version):
    source, schema = kserve_schema(kind)
    assert source["repository"] == "github.com/kserve/kserve"
    assert source["kind"] == kind and source["apiVersion"] == api_version
    assert re.fullmatch(r"config/crd/full/serving\.kserve\.io_[a-z]+\.yaml", source["path"])
    assert re.fullmatch(r"v\d+\.\d+\.\d+", source["version"])
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])

    kept = set(source["keptKeywords"])
    count = 0

    def walk(node):
        nonlocal count
        count += 1
        assert set(node) <= kept, set(node) - kept
        for sub in node.get("properties", {}).values():
            walk(sub)
        for keyword in ("items", "additionalProperties", "not"):
            if isinstance(node.get(keyword), dict):
                walk(node[keyword])
        for keyword in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(keyword, []):
                walk(sub)

    walk(schema)
    assert count > 1000  # the whole schema, containers and all, not a stub
    jsonschema.Draft4Validator.check_schema(schema)


def load_extractor():
    spec = importlib.util.spec_from_file_location("kserve_crd_schemas", ROOT / "scripts" / "kserve-crd-schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_extractor_keeps_structure_and_drops_prose():
    crd = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  versions:
    - name: v1alpha1
      served: false
      storage: false
      schema: {openAPIV3Schema: {type: object}}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: A gadget.
          type: object
          properties:
            spec:
              description: What the gadget does.
              type: object
              required: [size]
              x-kubernetes-validations: [{rule: "self.size > 0", message: Size must be positive.}]
              properties:
                description: {type: string, description: A field that is called description.}
                size: {type: integer, format: int32, default: 1, minimum: 0}
                mode: {type: string, enum: [fast, slow], example: fast}
                limits:
                  type: object
                  additionalProperties:
                    anyOf: [{type: integer}, {type: string}]
                    x-kubernetes-int-or-string: true
"""
    extractor = load_extractor()
    [(kind, document)] = extractor.extract(crd, {"repository": "r", "path": "p", "version": "v1.0.0", "commit": "c"})
    assert kind == "Gadget"
    header, schema = document["source"], document["schema"]
    assert header["apiVersion"] == "example.com/v1" and header["servedVersions"] == ["v1"]
    assert header["droppedKeywords"] == {"default": 1, "description": 3, "example": 1, "x-kubernetes-validations": 1}
    assert schema == {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "description": {"type": "string"},
                    "size": {"type": "integer", "format": "int32", "minimum": 0},
                    "mode": {"type": "string", "enum": ["fast", "slow"]},
                    "limits": {
                        "type": "object",
                        "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
                    },
                },
            }
        },
    }


# --- validity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["deployment.yaml"])
def test_core_kinds_are_valid_strictly(name):
    kinds = []
    for document in documents(name):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        kinds.append(document["kind"])
    assert sorted(kinds) == ["Deployment", "Service"]


@pytest.mark.parametrize("name, kind", [("kserve-servingruntime.yaml", "ServingRuntime"), ("kserve-inferenceservice.yaml", "InferenceService")])
def test_kserve_kinds_are_valid_strictly(name, kind):
    [document] = documents(name)
    assert document["kind"] == kind
    validate_kserve(document)


def test_every_manifest_is_checked():
    checked = {"deployment.yaml", "kserve-servingruntime.yaml", "kserve-inferenceservice.yaml"}
    assert {path.name for path in DEPLOY.glob("*.yaml")} == checked
    assert {path.name for path in SCHEMAS.glob("*.json")} == {"servingruntime.json", "inferenceservice.json"}


# --- what the checks reject -------------------------------------------------------------------


def test_a_misspelled_inferenceservice_field_is_rejected():
    document = only("kserve-inferenceservice.yaml", "InferenceService")
    model = document["spec"]["predictor"]["model"]
    model["protocolVersoin"] = model.pop("protocolVersion")
    _, schema = kserve_schema("InferenceService")
    # The CRD's schema alone lets it through (the API server would drop the field silently) ...
    jsonschema.Draft4Validator(schema).validate(document)
    # ... the walk does not.
    assert unknown_fields(document, schema) == ["$.spec.predictor.model.protocolVersoin"]
    with pytest.raises(AssertionError, match="protocolVersoin"):
        validate_kserve(document)


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda d: d["spec"]["containers"][0].__setitem__("imagee", "x"), "$.spec.containers[0].imagee"),
        (lambda d: d["spec"]["containers"][0]["readinessProbe"]["httpGet"].__setitem__("pathh", "/"), "$.spec.containers[0].readinessProbe.httpGet.pathh"),
        (lambda d: d["spec"]["supportedModelFormats"][0].__setitem__("autoselect", True), "$.spec.supportedModelFormats[0].autoselect"),
        (lambda d: d["spec"]["volumes"][0]["emptyDir"].__setitem__("size", "1Gi"), "$.spec.volumes[0].emptyDir.size"),
        (lambda d: d.__setitem__("specs", {}), "$.specs"),
    ],
)
def test_misspelled_servingruntime_fields_are_rejected(mutate, path):
    document = only("kserve-servingruntime.yaml", "ServingRuntime")
    mutate(document)
    assert unknown_fields(document, kserve_schema("ServingRuntime")[1]) == [path]
    with pytest.raises(AssertionError, match=re.escape(path)):
        validate_kserve(document)


def test_a_misspelled_metadata_field_is_rejected():
    document = only("kserve-inferenceservice.yaml", "InferenceService")
    document["metadata"]["lables"] = document["metadata"].pop("labels")
    with pytest.raises(kubernetes_validate.ValidationError, match="lables"):
        validate_kserve(document)


@pytest.mark.parametrize(
    "name, kind, mutate",
    [
        ("kserve-servingruntime.yaml", "ServingRuntime", lambda d: d["spec"]["containers"][0]["ports"][0].__setitem__("containerPort", "8080")),
        ("kserve-servingruntime.yaml", "ServingRuntime", lambda d: d["spec"]["supportedModelFormats"][0].__setitem__("autoSelect", "yes")),
        ("kserve-servingruntime.yaml", "ServingRuntime", lambda d: d["spec"].__setitem__("protocolVersions", "v2")),
        ("kserve-servingruntime.yaml", "ServingRuntime", lambda d: d["spec"].pop("containers")),
        ("kserve-inferenceservice.yaml", "InferenceService", lambda d: d["spec"]["predictor"]["model"].__setitem__("modelFormat", "onnx")),
        ("kserve-inferenceservice.yaml", "InferenceService", lambda d: d["spec"]["predictor"].__setitem__("minReplicas", "one")),
    ],
)
def test_wrong_types_and_missing_fields_are_rejected(name, kind, mutate):
    document = only(name, kind)
    mutate(document)
    with pytest.raises(jsonschema.ValidationError):
        validate_kserve(document)


@pytest.mark.parametrize(
    "kind, mutate, message",
    [
        ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("imagee", "x"), "imagee"),
        ("Deployment", lambda d: d["spec"].__setitem__("replicas", "1"), "'1' is not of type"),
        ("Deployment", lambda d: d["spec"]["template"]["spec"]["securityContext"].__setitem__("runAsNonroot", True), "runAsNonroot"),
        ("Service", lambda d: d["spec"]["ports"][0].__setitem__("port", "8080"), "'8080' is not of type"),
    ],
)
def test_core_kind_mistakes_are_rejected(kind, mutate, message):
    document = only("deployment.yaml", kind)
    mutate(document)
    with pytest.raises(kubernetes_validate.ValidationError, match=message):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_checks_do_not_change_the_documents():
    document = only("kserve-servingruntime.yaml", "ServingRuntime")
    before = copy.deepcopy(document)
    validate_kserve(document)
    assert document == before


# --- the facts the deployment relies on -----------------------------------------------------


def image_facts():
    text = CONTAINERFILE.read_text()
    user = re.search(r"^USER (\d+):(\d+)$", text, re.M)
    store = re.search(r"DMS_MODEL_STORE=(\S+)", text)
    port = re.search(r"DMS_PORT=(\d+)", text)
    grpc_port = re.search(r"DMS_GRPC_PORT=(\d+)", text)
    tag = re.search(r'^TAG="\$\{DMS_IMAGE:-([^}]+)\}"$', BUILD_IMAGE.read_text(), re.M)
    assert user and store and port and grpc_port and tag
    return {
        "uid": int(user.group(1)), "gid": int(user.group(2)), "model_store": store.group(1), "port": int(port.group(1)),
        "grpc_port": int(grpc_port.group(1)), "image": tag.group(1),
    }


def runtime_container():
    runtime = only("kserve-servingruntime.yaml", "ServingRuntime")
    return runtime, container_named(runtime["spec"]["containers"], "kserve-container")


def test_servingruntime_facts():
    runtime, container = runtime_container()
    spec = runtime["spec"]
    assert runtime["metadata"]["name"] == "deep-model-server"
    formats = {f["name"]: f for f in spec["supportedModelFormats"]}
    assert {"mxnet", "onnx"} <= set(formats)
    assert all(formats[name].get("autoSelect") is True for name in ("mxnet", "onnx"))
    assert spec["protocolVersions"] == ["v2", "grpc-v2"]
    assert container["image"] == image_facts()["image"]
    # Options, so the image's entry point passes them to the server (a first argument that is not
    # an option would run as a command instead).
    assert container["args"] == ["--models", "{{.Name}}=/mnt/models"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"


def test_servingruntime_ports():
    """REST first (KServe's service port 80 leads to the first port), then gRPC, named so that
    KServe's standard mode routes gRPC to it; each on the port the image listens on, and each a
    name Knative would take for a single-port variant."""
    _, container = runtime_container()
    [port, grpc_port] = container["ports"]
    facts = image_facts()
    assert (port["name"], port["containerPort"]) == ("http1", facts["port"])
    assert ("grpc" in grpc_port["name"] or "h2c" in grpc_port["name"]) and grpc_port["containerPort"] == facts["grpc_port"]
    for each in (port, grpc_port):
        assert each["name"] in KNATIVE_PORT_NAMES and each["containerPort"] not in KNATIVE_RESERVED_PORTS
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"].get("port", port["name"]) in (port["name"], port["containerPort"])
    # Not every Knative release takes a startup probe: the liveness probe waits out the load.
    assert "startupProbe" not in container
    assert container["livenessProbe"]["initialDelaySeconds"] + container["livenessProbe"]["periodSeconds"] * container["livenessProbe"]["failureThreshold"] >= 120


def test_the_name_placeholder_is_the_only_template_in_the_container():
    # KServe runs the container's JSON through Go's text/template with the InferenceService's
    # metadata, so {{.Name}} must be the only template action in it (an action starts with "{{";
    # the "}}" that closes nested JSON objects is plain text to the template).
    _, container = runtime_container()
    text = json.dumps(container)
    assert text.count("{{") == 1
    assert re.findall(r"\{\{.*?\}\}", text) == ["{{.Name}}"]


def test_inferenceservice_facts():
    service = only("kserve-inferenceservice.yaml", "InferenceService")
    runtime, _ = runtime_container()
    model = service["spec"]["predictor"]["model"]
    assert service["metadata"]["name"] == "digits"
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["protocolVersion"] == "v2"
    # Two container ports need KServe's standard (raw Deployment) mode: Knative takes one.
    assert service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert model["protocolVersion"] in runtime["spec"]["protocolVersions"]
    assert model["modelFormat"]["name"] == "onnx"
    assert model["modelFormat"]["name"] in {f["name"] for f in runtime["spec"]["supportedModelFormats"]}
    assert re.match(r"^(pvc|s3|gs|https?)://", model["storageUri"])
    # The name becomes the server's model name through {{.Name}}: it must be one the server takes.
    name = service["metadata"]["name"]
    assert MODEL_NAME.match(name) and name.lower() not in RESERVED_MODEL_NAMES


def security_of(pod_security, container):
    """The container's effective security settings: its own over the pod's."""
    merged = dict(pod_security or {})
    merged.update(container.get("securityContext", {}))
    return merged


def check_security_and_storage(pod_security, container, volumes):
    facts = image_facts()
    security = security_of(pod_security, container)
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == facts["uid"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert security["readOnlyRootFilesystem"] is True
    # With a read-only image, the server's home (the model store) must be a writable volume.
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    home = mounts["/var/lib/dms"]
    assert facts["model_store"].startswith("/var/lib/dms/")
    assert not home.get("readOnly", False)
    [volume] = [v for v in volumes if v["name"] == home["name"]]
    assert "emptyDir" in volume


def test_servingruntime_security():
    runtime, container = runtime_container()
    check_security_and_storage({}, container, runtime["spec"]["volumes"])
    assert "resources" in container and container["resources"]["requests"] and container["resources"]["limits"]


def test_deployment_and_service_facts():
    deployment = only("deployment.yaml", "Deployment")
    service = only("deployment.yaml", "Service")
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    facts = image_facts()
    assert container["image"] == facts["image"]
    assert "args" not in container and "command" not in container  # the bundled /models
    [port, grpc_port] = container["ports"]
    assert port["containerPort"] == facts["port"] and grpc_port["containerPort"] == facts["grpc_port"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/live"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in (port["name"], port["containerPort"])
    check_security_and_storage(pod["spec"]["securityContext"], container, pod["spec"]["volumes"])
    assert container["resources"]["requests"] and container["resources"]["limits"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    [service_port, grpc_service_port] = service["spec"]["ports"]
    assert service_port["port"] == 8080
    assert service_port["targetPort"] in (port["name"], port["containerPort"])
    assert grpc_service_port["port"] == 8001 and grpc_service_port["appProtocol"] == "kubernetes.io/h2c"
    assert grpc_service_port["targetPort"] in (grpc_port["name"], grpc_port["containerPort"])
