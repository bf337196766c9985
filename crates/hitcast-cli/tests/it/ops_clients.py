"""Real clients against a running `hitcast serve`: tritonclient (the Open Inference Protocol's
HTTP client) scores tracks as `hitcast predict` does, and prometheus_client's parsers read
/metrics. Run by tests/it/ops.rs: python3 ops_clients.py HOST:PORT TRACKS.csv ANSWERS.csv
"""

import csv
import sys
import urllib.request

import numpy as np
import tritonclient.http as http
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as text_families

address, tracks_path, answers_path = sys.argv[1:4]

with open(tracks_path, newline="") as f:
    tracks = list(csv.DictReader(f))
with open(answers_path, newline="") as f:
    expected = list(csv.DictReader(f))
assert len(tracks) == len(expected) > 0

client = http.InferenceServerClient(url=address)
assert client.is_server_live()
assert client.is_server_ready()
assert client.is_model_ready("hitcast")
meta = client.get_model_metadata("hitcast")
types = {i["name"]: i["datatype"] for i in meta["inputs"]}

NUMPY = {"BYTES": np.object_, "BOOL": np.bool_, "INT64": np.int64, "FP64": np.float64}


def column(name, datatype):
    cells = [t[name] for t in tracks]
    if datatype == "BYTES":
        return np.array([c.encode() for c in cells], dtype=np.object_)
    if datatype == "BOOL":
        return np.array([c.lower() == "true" for c in cells], dtype=np.bool_)
    return np.array([float(c) for c in cells]).astype(NUMPY[datatype])


inputs = []
for k, (name, datatype) in enumerate(types.items()):
    if name not in tracks[0]:
        continue
    data = column(name, datatype)
    tensor = http.InferInput(name, list(data.shape), datatype)
    # Half the inputs in the binary tensor extension, half as JSON: the server reads both.
    tensor.set_data_from_numpy(data, binary_data=k % 2 == 0)
    inputs.append(tensor)
wanted = ["track_id", "popularity_probability", "flagged", "predicted_popularity", "model"]
result = client.infer(
    "hitcast",
    inputs,
    request_id="ops-1",
    outputs=[http.InferRequestedOutput(n, binary_data=False) for n in wanted],
)
assert result.get_response()["id"] == "ops-1"
probability = result.as_numpy("popularity_probability")
score = result.as_numpy("predicted_popularity")
flagged = result.as_numpy("flagged")
models = result.as_numpy("model")
for i, e in enumerate(expected):
    # hitcast predict writes 6 decimals of the chance, 2 of the score.
    assert abs(probability[i] - float(e["popularity_probability"])) <= 5e-7, (i, probability[i], e)
    assert abs(score[i] - float(e["predicted_popularity"])) <= 0.005, (i, score[i], e)
    assert bool(flagged[i]) == (e["flagged"] == "1"), (i, flagged[i], e)
    model = models[i].decode() if isinstance(models[i], bytes) else models[i]
    assert model == e["model"], (i, model, e)
print(f"tritonclient: {len(expected)} tracks answered as hitcast predict answers them")

text = urllib.request.urlopen(f"http://{address}/metrics").read().decode()
families = {f.name: f for f in openmetrics_families(text)}
requests = families["hitcast_http_requests"]
infer = [
    s
    for s in requests.samples
    if s.labels.get("route") == "/v2/models/{name}/infer" and s.labels["status"] == "200"
]
assert infer and infer[0].value >= 1, requests.samples
answers = {s.labels["model"]: s.value for s in families["hitcast_answers"].samples}
assert sum(answers.values()) >= len(expected), answers
info = families["hitcast_model_info"].samples[0]
assert len(info.labels["sha256"]) == 64 and info.labels["name"] == "hitcast", info
assert families["hitcast_http_request_duration_seconds"].type == "histogram"
assert families["process_resident_memory_bytes"].samples[0].value > 1e6
# The classic text parser reads it too (Prometheus scrapes either).
assert any(f.name == "hitcast_http_requests" for f in text_families(text.replace("# EOF\n", "")))
print(f"prometheus_client: {len(families)} metric families parsed")
