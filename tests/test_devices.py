"""Device plumbing, tested on the CPU: `--device` resolution and its one-line errors, every model computing
on the device of its inputs (a model that creates a tensor on a device of its own fails), the trainer
placing model, teacher and batches, and the run record saying where it ran."""

from __future__ import annotations

import pytest
import torch

from benchmark.commands.cli import main
from benchmark.data.collate import collate_dialogues
from benchmark.errors import BenchmarkError
from benchmark.executors.local import run_key
from benchmark.experiment.catalog import MODELS
from benchmark.models.contract import ModelDims
from benchmark.store.records import RunKey
from benchmark.training.device_settings import Execution
from tests.model_fixtures import tiny_dialogues, tiny_meta

DIMS = ModelDims(width=16, heads=2, layers=1, dropout=0.1)


@pytest.mark.parametrize("name", MODELS.names())
def test_a_model_computes_on_the_device_of_its_inputs(name):
    """Model and batch are on the CPU while the default device is `meta`: any tensor the model makes
    without taking the device from its inputs lands on `meta`, and mixing it with the CPU tensors
    fails. This is how a `.cuda()` or a device-less `torch.zeros(n)` in `forward` shows without a GPU."""
    meta = tiny_meta()
    torch.manual_seed(0)
    model = MODELS.get(name).build(meta, DIMS, {})
    if model.teacher_request() is not None:
        request = model.teacher_request()
        model.attach_teacher(MODELS.get(request.model).build(meta, DIMS, request.overrides))
    batch = collate_dialogues(tiny_dialogues(meta))
    model.train()
    with torch.device("meta"):
        output = model(batch)
        loss = output.logits[batch.mask].logsumexp(-1).sum() + sum(output.aux_losses.values())
    assert output.logits.device.type == "cpu"
    loss.backward()
    assert all(p.grad is None or p.grad.device.type == "cpu" for p in model.parameters())


def test_the_meta_device_check_catches_a_hard_coded_device():
    """The check above is not vacuous: a forward that makes its own tensor without a device fails it."""

    def forward_with_own_tensor(x: torch.Tensor) -> torch.Tensor:
        return x + torch.zeros(x.shape[-1])

    with torch.device("meta"), pytest.raises((RuntimeError, NotImplementedError)):
        forward_with_own_tensor(torch.ones(2, 3, device="cpu"))


def test_no_model_names_a_device_in_its_source():
    import pathlib

    from benchmark.home import PROJECT_ROOT

    for folder in ("summer", "baselines"):
        for path in pathlib.Path(PROJECT_ROOT, folder).glob("*.py"):
            text = path.read_text()
            assert ".cuda(" not in text and 'device="cuda' not in text, path


def test_device_auto_is_the_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Execution("auto", deterministic=False).resolved() == Execution("cpu", "fp32", True)
    assert Execution("cpu", threads=1).resolved().threads == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"device": "cuda"}, "sees no CUDA device here; use --device cpu or auto"),
        ({"device": "cuda:1"}, "sees no CUDA device here"),
        ({"device": "tpu"}, "is not a device: use auto, cpu, cuda or cuda:N"),
        ({"device": "mps"}, "is not supported: use auto, cpu, cuda or cuda:N"),
        ({"device": "cpu", "precision": "bf16"}, "--precision bf16 needs a CUDA device"),
        ({"device": "cpu", "precision": "fp8"}, "--precision 'fp8' is not one of fp32, bf16"),
        ({"device": "cpu", "threads": 0}, "--threads 0: give at least 1"),
    ],
)
def test_device_options_that_cannot_run_here_are_one_line_errors(monkeypatch, options, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BenchmarkError, match=message.replace("(", r"\(").replace("+", r"\+")):
        Execution(**options).resolved()


def test_the_cli_refuses_cuda_without_a_gpu_in_one_line(monkeypatch, capsys, home):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code = main(["run", "--model", "early-fusion", "--device", "cuda", "--home", str(home.root)])
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "no CUDA device" in error


def test_the_run_record_says_where_it_ran_and_the_threads_option_reaches_the_config(home, smaller_smoke):
    key = RunKey("summer", "none", "synthetic-iemocap", "smoke", 0)
    record = run_key(key, home, execution=Execution("cpu", threads=1).resolved())
    assert record.environment.device == "cpu"
    assert record.environment.device_name == "cpu"
    assert record.environment.precision == "fp32"
    assert record.environment.deterministic is True
    assert record.config.precision == "fp32"
    assert record.config.train["threads"] == 1
    assert record.teacher is not None and not record.teacher.cache_hit


@pytest.mark.parametrize("name", MODELS.names())
def test_a_model_runs_under_bfloat16_autocast(name):
    """`--precision bf16` autocasts on CUDA; the CPU's autocast mixes dtypes the same way, so a model
    that writes bfloat16 results into a float32 buffer (or the reverse) fails here without a GPU."""
    meta = tiny_meta()
    torch.manual_seed(0)
    model = MODELS.get(name).build(meta, DIMS, {})
    request = model.teacher_request()
    if request is not None:
        model.attach_teacher(MODELS.get(request.model).build(meta, DIMS, request.overrides))
    batch = collate_dialogues(tiny_dialogues(meta))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = model(batch)
        loss = output.logits.float()[batch.mask].logsumexp(-1).sum() + sum(output.aux_losses.values())
    loss.backward()
    assert torch.isfinite(loss)
