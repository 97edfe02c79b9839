"""Run a report notebook with papermill, export self-contained HTML with nbconvert, and the same report as PDF,
Excel workbook and Markdown digest.

Per run: ``<out>/<notebook>/<scope>_<start>_<end>.html``, the executed ``.ipynb`` beside it (audit trail with
``metadata.papermill.parameters``), ``.summary.json`` with the headline figures, and, by ``formats``, ``.pdf``
(:mod:`outputs.pdf`), ``.xlsx`` (:mod:`outputs.xlsx`) and ``.md`` (:mod:`outputs.digest`). The HTML is always
written: the PDF is printed from it and the digest points to it. Without a PDF engine the other formats are still
written and :attr:`Rendered.skipped` says how to install one. Parameter names are
checked against the notebook's ``parameters`` cell (papermill only warns). A failing cell fails the run and
the executed notebook with the error is kept.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, CopilotUsageError, EngineMissing, OutputError
from ..storage import objstore
from ..storage.datadir import find_data_dir
from .record import output_stem, read_summary

FORMATS = ("html", "pdf", "xlsx", "md")
NOTEBOOKS = Path(__file__).parents[1] / "notebooks"  # the report notebooks shipped with the kit (the repo's notebooks/)
# ipykernel warns "Kernel is running over TCP without encryption" unless the kernel manager provisions CurveZMQ keys;
# jupyter_client provisions them when asked and the kernelspec declares support (``auto`` keeps TCP otherwise)
KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}}


def _kernel_manager(stderr: Path) -> type:
    """The report kernel's manager, its process's stderr sent to ``stderr``: the kernel's own log (shutdown chatter
    on a loaded machine, "KeyboardInterrupt caught in kernel.") is not the user's business unless the run fails,
    when it is kept beside the failed notebook. Cell output (warnings included) travels in the notebook, not here."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
            cmd, launch = await super()._async_pre_start_kernel(**kw)
            self._kernel_log = stderr.open("ab")  # the kernel process gets a duplicate; ours closes once it runs
            return cmd, {**launch, "stderr": self._kernel_log}

        async def _async_post_start_kernel(self, **kw: Any) -> None:
            self._kernel_log.close()
            await super()._async_post_start_kernel(**kw)

    return QuietKernelManager


TEMPLATES = Path(__file__).parent / "templates"
_EXTERNAL = re.compile(r"""(?:src|href)=["']https?://[^"']+|import\(["']https?://""", re.IGNORECASE)


class RenderError(CopilotUsageError):
    """A notebook failed; the executed notebook with the error is at ``executed``."""

    def __init__(self, message: str, *, executed: Path | None) -> None:
        super().__init__(message)
        self.executed = executed


@dataclass
class Rendered:
    notebook: str
    parameters: dict[str, Any]
    html: Path | None = None
    executed: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)  # format -> file written
    skipped: dict[str, str] = field(default_factory=dict)  # format -> why not written (engine missing)


def parse_formats(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"html,pdf"`` or ``["html", "pdf"]`` → known formats in the order of :data:`FORMATS`; None → all four."""
    if value is None:
        return FORMATS
    names = [v.strip().lower() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    unknown = sorted(set(names) - set(FORMATS))
    if unknown or not names:
        msg = f"unknown output format(s) {', '.join(unknown) or '(none given)'}; valid formats: {', '.join(FORMATS)}"
        raise ConfigError(msg)
    return tuple(f for f in FORMATS if f in names)


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The parameters cell of a notebook: ``{name: {"type": ..., "default": ..., "help": ...}}``."""
    import papermill

    info = papermill.inspect_notebook(str(path))
    return {
        name: {"type": p.get("inferred_type_name"), "default": p.get("default"), "help": p.get("help")}
        for name, p in info.items()
    }


def coerce(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Check names against the parameters cell and convert string values (from ``-p``) to the declared type."""
    declared = notebook_parameters(path)
    unknown = sorted(set(raw) - set(declared))
    if unknown:
        msg = f"{path.name}: unknown parameter(s) {', '.join(unknown)}; valid parameters: " + ", ".join(
            f"{n} ({d['type']})" for n, d in declared.items()
        )
        raise ConfigError(msg)
    out: dict[str, Any] = {}
    for name, value in raw.items():
        kind = (declared[name]["type"] or "str").lower()
        if isinstance(value, str) and kind not in ("str", "none"):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                msg = f"{path.name}: parameter {name} expects {kind}, got {value!r}"
                raise ConfigError(msg) from exc
            types: dict[str, type | tuple[type, ...]] = {
                "int": int,
                "float": (int, float),
                "bool": bool,
                "list": list,
                "dict": dict,
            }
            expected = types.get(kind)
            if expected and not isinstance(value, expected):
                msg = f"{path.name}: parameter {name} expects {kind}, got {value!r}"
                raise ConfigError(msg)
        out[name] = value
    _check_file_name_parts(path, out)
    return out


def _check_file_name_parts(path: Path, params: dict[str, Any]) -> None:
    """The parameters that name the output files (:func:`_stem`) are a scope, days and an audience word, never a
    path: checked before the notebook runs (ConfigError naming the parameter)."""
    from ..catalog import Scope

    try:
        if params.get("scope"):
            Scope.parse(str(params["scope"]))
        for name in ("start", "end"):
            if params.get(name) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(params[name])):
                msg = f"{name} {params[name]!r} is not an ISO day (YYYY-MM-DD)"
                raise ValueError(msg)
        if params.get("audience") and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", str(params["audience"])):
            msg = f"audience {params['audience']!r} is not a word"
            raise ValueError(msg)
    except ValueError as exc:
        msg = f"{path.name}: parameter {exc}"
        raise ConfigError(msg) from None


def _stem(parameters: dict[str, Any], summary: dict[str, Any]) -> str:
    return output_stem(
        str(summary.get("scope") or parameters.get("scope") or "scope"),
        str(summary.get("start") or parameters.get("start") or "auto"),
        str(summary.get("end") or parameters.get("end") or "auto"),
        str(parameters.get("audience", "leadership")),
    )


def to_html(executed: Path, html: Path) -> int:
    """Export without code cells or prompts; no script is loaded from another host. Returns bytes written."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    leftover = _EXTERNAL.findall(body)
    if leftover:  # the template should have removed every remote loader; fail loudly if nbconvert adds one
        msg = f"HTML export would load remote scripts: {leftover[:2]}"
        raise RenderError(msg, executed=executed)
    html.write_text(body, encoding="utf-8")
    return len(body.encode())


def render(
    notebook: Path,
    parameters: dict[str, Any],
    out_dir: Path,
    *,
    formats: str | Iterable[str] | None = None,
    paper: str = "a4",
) -> Rendered:
    """Execute one notebook with one parameter set and write the executed notebook, summary, HTML and the other
    ``formats`` (default all of :data:`FORMATS`; ``paper``: ``a4`` or ``letter`` for the PDF)."""
    import papermill
    from traitlets.config import Config

    wanted = parse_formats(formats)
    notebook = Path(notebook).resolve()
    params = coerce(notebook, parameters)
    if "data_dir" in notebook_parameters(notebook):  # never the kernel's working directory by accident
        given = params.get("data_dir")
        # an object-store URL is kept as given
        params["data_dir"] = given if given and objstore.is_url(str(given)) else str(find_data_dir(given))
    folder = Path(out_dir) / notebook.stem
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        executed_tmp = Path(tmp) / "executed.ipynb"
        kernel_log = Path(tmp) / "kernel.log"
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed_tmp),
                parameters=params,
                cwd=str(notebook.parent),
                kernel_name="python3",
                progress_bar=False,
                config=Config(KERNEL_CONFIG),
                kernel_manager_class=_kernel_manager(kernel_log),
            )
        except papermill.PapermillExecutionError as exc:
            failed = folder / f"{_stem(params, {})}.failed.ipynb"
            failed.write_bytes(executed_tmp.read_bytes())
            if kernel_log.exists() and kernel_log.stat().st_size:
                shutil.copyfile(kernel_log, failed.with_suffix(".kernel.log"))
            msg = (
                f"{notebook.name} failed with parameters {json.dumps(params, default=str)}: "
                f"{exc.ename}: {exc.evalue} (executed notebook kept at {failed})"
            )
            raise RenderError(msg, executed=failed) from exc
        summary = read_summary(executed_tmp)  # the headline figures the notebook displayed
        stem = _stem(params, summary)
        executed = folder / f"{stem}.ipynb"
        executed.write_bytes(executed_tmp.read_bytes())
    html = folder / f"{stem}.html"
    to_html(executed, html)
    summary["changes_since_last_run"] = changes_since_last_run(folder, stem, summary)
    (folder / f"{stem}.summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    done = Rendered(notebook.stem, params, html, executed, summary, outputs={"html": html})
    write_outputs(done, folder / stem, formats=wanted, paper=paper)
    return done


def write_outputs(done: Rendered, base: Path, *, formats: tuple[str, ...], paper: str = "a4") -> None:
    """PDF, workbook and digest of a rendered report, beside its HTML (``base`` + suffix). A missing PDF engine
    is recorded in ``done.skipped``; a failing one raises :class:`RenderError` after the other formats."""
    from . import digest, pdf, xlsx
    from .record import read_record

    assert done.html is not None and done.executed is not None
    if formats == ("html",):
        return
    record = read_record(done.executed)
    failure: OutputError | None = None
    if "pdf" in formats:
        try:
            done.outputs["pdf"] = pdf.write_pdf(done.html, base.with_suffix(".pdf"), title=record.title, paper=paper)
        except EngineMissing as exc:
            done.skipped["pdf"] = str(exc)
        except OutputError as exc:
            failure = exc
    if "xlsx" in formats:
        done.outputs["xlsx"] = xlsx.write_xlsx(record, done.summary, base.with_suffix(".xlsx"), html=done.html)
    if "md" in formats:
        logins = digest.logins_in_cache(done.parameters.get("data_dir", "."), record.title.get("scope", ""))
        others = {f: p for f, p in done.outputs.items() if f not in ("html", "md")}
        units = digest.units_in_cache(done.parameters.get("data_dir", "."))
        done.outputs["md"] = digest.write_digest(
            record, base.with_suffix(".md"), report=done.html, others=others, logins=logins, units=units
        )
    if failure is not None:
        raise RenderError(str(failure), executed=done.executed) from failure


def changes_since_last_run(folder: Path, stem: str, summary: dict[str, Any]) -> dict[str, Any] | None:
    """Numeric headline figures against the newest earlier summary of the same scope and audience in ``folder``
    (``{"previous": <file>, "figures": {name: {"previous", "current", "change"}}}``), or None on a first run."""
    scope = str(summary.get("scope", "")).replace(":", "-")
    suffix = "" if summary.get("audience", "leadership") == "leadership" else f"_{summary.get('audience')}"
    earlier = sorted(
        p
        for p in folder.glob(f"{scope}_*{suffix}.summary.json")
        if p.name != f"{stem}.summary.json" and (suffix or not p.stem.endswith("_analyst.summary"))
    )
    if not earlier:
        return None
    previous = json.loads(earlier[-1].read_text())
    figures = {}
    for key, value in summary.items():
        old = previous.get(key)
        if isinstance(value, int | float) and isinstance(old, int | float) and not isinstance(value, bool):
            figures[key] = {"previous": old, "current": value, "change": (value / old - 1) if old else None}
    return {"previous": earlier[-1].name, "figures": figures}


def load_config(path: Path) -> list[dict[str, Any]]:
    """``notebooks/reports.yml``: ``reports: [{notebook: trends, parameters: {...}, formats: [html, md]}, ...]``
    (``formats`` optional: all four when absent)."""
    doc = yaml.safe_load(Path(path).read_text()) or {}
    entries = doc.get("reports", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "notebook" in e for e in entries):
        msg = f"{path}: expected 'reports:' as a list of {{notebook: NAME, parameters: {{...}}}}"
        raise ConfigError(msg)
    for entry in entries:
        try:
            parse_formats(entry.get("formats"))
        except ConfigError as exc:
            msg = f"{path}: report {entry['notebook']}: {exc}"
            raise ConfigError(msg) from exc
    return entries


def render_all(
    config: Path,
    out_dir: Path,
    *,
    notebooks_dir: Path,
    overrides: dict[str, Any] | None = None,
    formats: str | Iterable[str] | None = None,
    paper: str = "a4",
) -> list[Rendered]:
    """Render every entry (in its own ``formats``, unless ``formats`` is given); a failure is recorded and the
    others still run. A relative ``data_dir`` in ``config`` is taken from the config file's folder."""
    results = []
    for entry in load_config(config):
        params = {**(entry.get("parameters") or {}), **(overrides or {})}
        given = params.get("data_dir")
        if given and not Path(str(given)).is_absolute() and "data_dir" not in (overrides or {}):
            params["data_dir"] = str(Path(config).parent / str(given))  # as reports.yml says: beside the file
        nb = notebooks_dir / f"{entry['notebook']}.ipynb"
        chosen = formats if formats is not None else entry.get("formats")
        try:
            results.append(render(nb, params, out_dir, formats=chosen, paper=paper))
        except CopilotUsageError as exc:
            results.append(Rendered(entry["notebook"], params, error=str(exc)))
    return results
