"""``sdmodel serve``: options, one-line errors, and what it hands to the library."""

from __future__ import annotations

from click.testing import CliRunner

from sdmodel.cli import main


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output
    assert "127.0.0.1" in result.output  # localhost by default


def test_bad_options_are_one_line_errors(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["serve", "--port", "70000"], standalone_mode=True)
    assert result.exit_code == 2
    assert "70000" in result.output
    missing = tmp_path / "none.mdl"
    result = runner.invoke(main, ["serve", "--model", str(missing)])
    assert result.exit_code == 2
    assert result.output.strip() == f"sdmodel: error: model file not found: {missing}"
    result = runner.invoke(main, ["serve", "--host", "no-such-host.invalid"])
    assert result.exit_code == 2
    assert result.output.startswith("sdmodel: error: --host 'no-such-host.invalid': cannot resolve")


def test_serve_starts_the_simulator_on_localhost(monkeypatch) -> None:
    import sdmodel.serve.app as app
    import sdmodel.serve.compute as compute

    calls = {}

    class FakeSimulator:
        backend = "numpy"

        def __init__(self, model_path, backend=None):
            calls.update(model=model_path, backend=backend)

        def warm(self):
            calls["warmed"] = True

    def fake_serve(sim, host, port, on_ready, prepare):
        calls.update(host=host, port=port)
        prepare()  # after binding, as app.serve does
        on_ready(f"http://{host}:{port}/")

    monkeypatch.setattr(compute, "Simulator", FakeSimulator)
    monkeypatch.setattr(app, "serve", fake_serve)
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (calls["host"], calls["port"]) == ("127.0.0.1", 8123)
    assert calls["warmed"] and calls["backend"] is None  # the default: jax where installed
    assert "open http://127.0.0.1:8123/" in result.output
    result = CliRunner().invoke(main, ["serve", "--engine", "numpy"])
    assert result.exit_code == 0, result.output
    assert calls["backend"] == "numpy"


def test_the_port_in_use_is_a_one_line_error() -> None:
    import socket

    from sdmodel.errors import SdmodelError
    from sdmodel.serve.app import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            serve(None, "127.0.0.1", port)  # type: ignore[arg-type]
        except SdmodelError as exc:
            assert f"--port {port}: cannot listen there" in str(exc)
        else:
            raise AssertionError("bound a port in use")
