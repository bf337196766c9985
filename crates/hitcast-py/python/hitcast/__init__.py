"""Predict Spotify track popularity with a model trained by ``hitcast train``.

>>> import hitcast, pandas as pd
>>> model = hitcast.load("runs/latest/model.hitcast")
>>> answers = model.predict(pd.read_csv("data/spotify_tracks.csv.gz"))

``predict`` and ``explain`` take a pandas DataFrame, a polars DataFrame or LazyFrame (collected
first), a pyarrow Table, RecordBatch or RecordBatchReader, or any object with the Arrow
PyCapsule interface (``__arrow_c_stream__``), and return the same kind of frame (a pandas
frame's answers keep its index labels, so they join back to it; a LazyFrame's are a polars
DataFrame; another Arrow object's come back as a pyarrow Table). The columns and numbers are
those of ``hitcast predict``: both call the same scoring code. Scoring releases the GIL and a model may be
shared between threads.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from . import _hitcast

__all__ = ["Model", "load", "run", "answers_schema", "ANSWER_COLUMNS", "PriorRefused", "__version__"]
__version__: str = _hitcast.__version__

#: The columns of ``Model.predict``'s answers, before any kept input columns.
ANSWER_COLUMNS = tuple(_hitcast.ANSWER_COLUMNS)
#: Raised by ``Model.estimate_prior`` when the estimate is refused: a ``ValueError``.
PriorRefused = _hitcast.PriorRefused


def load(path: str, *, genres: str = "use") -> "Model":
    """Loads and checks a model file written by ``hitcast train``.

    ``genres="ignore"`` scores every track with the model's no-genres companion, for a
    catalogue whose genre labels mean something else than the training data's.
    Raises ``OSError`` naming the file when it cannot be read (``FileNotFoundError``,
    ``PermissionError``, ...) or is not a valid model, ``ValueError`` for another ``genres``.
    """
    return Model(path, genres=genres)


def run(
    data: Optional[Union[str, os.PathLike]] = None,
    out: Optional[Union[str, os.PathLike]] = None,
    *,
    quick: bool = False,
    seed: int = 42,
    columns: Optional[Mapping[str, str]] = None,
    on_error: str = "fail",
    delimiter: Optional[str] = None,
    progress: bool = True,
) -> Dict[str, Any]:
    """The main job, as ``hitcast run`` does it: explore the data, run the experiment grid under
    the honest and the reference protocol, train the model chosen on VAL, and write the report, all
    in ``out`` (replaced whole when the job succeeds; a failed job leaves it as it was; a
    folder holding files of its own, not an earlier run's, raises ``FileExistsError``; by
    default ``runs/latest``, or ``runs/quick`` with ``quick=True``, as the CLI's).

    ``data`` is a CSV, CSV.gz or Parquet file of labelled tracks (default: ``$HITCAST_DATA``,
    else ``data/spotify_tracks.csv.gz``; Parquet is read through pyarrow);
    ``columns={"their_name": "hitcast_name"}`` renames columns as ``--map`` does.
    ``on_error="skip"`` drops bad rows (``--on-error skip``) with a ``UserWarning`` that counts
    them, as an absent column's default is one; ``delimiter`` is a CSV's field separator (one
    character, or ``"tab"``), by default the one an Excel ``sep=`` line names or the header
    uses. ``quick=True`` runs the reduced grid of ``hitcast run --quick`` (about ten seconds).
    ``progress`` prints each step on stderr.

    Returns a summary: ``out``, ``model`` (the saved model's path, for ``hitcast.load``),
    ``report`` (the report's page), ``classifier`` and ``regressor`` (the cells chosen on VAL),
    ``test_classification`` and ``test_regression`` (the saved model's TEST figures) and
    ``seconds``. Raises ``ValueError`` for a bad data file, ``OSError`` for one that cannot be
    read or written, ``RuntimeError`` when a model cannot be fitted.
    """
    if data is not None:
        if not isinstance(data, (str, os.PathLike)):
            raise TypeError(
                f"data: expected the path of a CSV, CSV.gz or Parquet file, got "
                f"{type(data).__name__} (write a frame to a file first: df.to_parquet(path))"
            )
        if not os.path.exists(data):
            raise FileNotFoundError(f"data: {os.fspath(data)} does not exist")
    said, notices = _hitcast.run(
        None if data is None else os.fspath(data),
        None if out is None else os.fspath(out),
        quick,
        seed,
        _pairs(columns),
        progress,
        on_error=on_error,
        delimiter=delimiter,
    )
    for notice in notices:
        warnings.warn(notice, UserWarning, stacklevel=2)
    return json.loads(said)


def answers_schema(keep: Union[str, Iterable[str]] = (), *, score: bool = True) -> Any:
    """The pyarrow schema of ``Model.predict``'s answers with these kept columns and ``score``
    (for engines that need it before scoring, such as Spark's ``mapInArrow``). Needs pyarrow."""
    import pyarrow

    return pyarrow.schema(_hitcast.Model.answers_schema(_names(keep), score))


class Model:
    """A saved hitcast model: a calibrated probability of being popular (popularity above the
    model's label threshold), a flag, and a 0-100 score with its range, for each track."""

    def __init__(self, path: Union[str, os.PathLike], *, genres: str = "use") -> None:
        self._model = _hitcast.Model(os.fspath(path), genres=genres)
        self._genres = genres

    def __reduce__(self) -> Any:
        # Pickled as its file and options (for joblib, multiprocessing): the model is loaded,
        # and checked, again where it is unpickled.
        return (_unpickle, (os.path.abspath(self.path), self._genres))

    @property
    def path(self) -> str:
        """The model file."""
        return str(self._model.path)

    @property
    def info(self) -> Dict[str, Any]:
        """The model's metadata (``hitcast model info --json``): families, features, the
        decision threshold, and the TEST figures measured when it was trained."""
        return json.loads(self._model.metadata_json)

    def predict(
        self,
        tracks: Any,
        *,
        columns: Optional[Mapping[str, str]] = None,
        keep: Iterable[str] = (),
        on_error: str = "fail",
        score: bool = True,
        adapt_prior: bool = False,
    ) -> Any:
        """Scores ``tracks``; returns one row per track in the same kind of frame.

        Columns are matched by the dataset's names (``danceability``, ``track_genre``, ...);
        ``columns={"their_name": "hitcast_name"}`` renames others, as ``--map`` does.
        ``popularity`` and ``track_id`` may be absent. ``keep`` copies input columns (by
        hitcast name) after the answers. A bad value raises ``ValueError`` naming its row (by
        position, from 1) and column; ``on_error="skip"`` drops such rows instead, with a
        ``UserWarning`` that counts them (a pandas frame's answers keep the input's index
        labels, so the dropped rows are the labels missing). An absent column's default is a
        ``UserWarning`` too, as ``hitcast predict`` warns of it.

        The answers: ``track_id``, ``popularity_probability`` (calibrated: the chance of a
        popular score), ``flagged`` (a hit contender: the chance reaches the answering model's
        threshold), ``lift`` (the probability over a typical track's),
        ``predicted_popularity`` with its range ``popularity_low`` to ``popularity_high`` (the
        mean and quantiles of one score distribution whose chance of a popular score is the
        probability), ``warnings`` (what to treat with care, ``;``-separated: inputs beyond
        what the model saw in training, ``track_genre`` for genres it does not know,
        ``training_track`` for a track of the dataset it was built from) and ``model`` (which model answered: ``main``, ``new-song`` for a row
        without ``track_id``, ``no-genres`` for one with no genre the model knows,
        ``from-audio`` for a row measured from audio, its seven learned columns null).
        ``score=False`` leaves out the score and its range, and runs the classifier alone:
        about twice as fast, for a catalogue where only the chance matters.

        ``adapt_prior=True`` first estimates the tracks' own share of popular tracks from the
        model's answers (``estimate_prior``) and adapts every answer to it, for a catalogue that
        differs from the training data in its share of hits only (a playlist of hits, say).
        When the estimate is refused (fewer than 500 tracks, tracks that differ in more than
        their share of hits, or a share not clearly another) a ``UserWarning`` says why and the
        answers are not adapted.
        """
        data = _arrow(tracks, columns)
        prior = None
        if adapt_prior:
            data = _twice(data)
            try:
                prior = self.estimate_prior(data, columns=columns, on_error=on_error)["estimate"]
            except PriorRefused as refused:
                # Only the estimate's refusal: a bad row, or a track the model cannot take,
                # is raised as it would be without adapt_prior.
                warnings.warn(f"adapt_prior: {refused}", UserWarning, stacklevel=2)
        answers = self._model.predict(
            data,
            columns=_pairs(columns),
            keep=_names(keep),
            on_error=on_error,
            score=score,
            prior=prior,
        )
        return _like(tracks, *answers)

    def estimate_prior(
        self,
        tracks: Any,
        *,
        columns: Optional[Mapping[str, str]] = None,
        on_error: str = "fail",
    ) -> Dict[str, Any]:
        """The share of popular tracks in ``tracks``, estimated from the model's answers by EM
        under label shift (``hitcast predict --adapt-prior``): a dict with ``estimate``, its
        ``standard_error``, the model's ``training`` rate, the ``mean_probability`` of the
        answers and the checks' misfits. Raises ``PriorRefused`` (a ``ValueError``) with the
        reason when the estimate is refused: fewer than 500 tracks, answers or inputs that show the tracks differ from
        the training tracks in more than their share of hits, or a share not clearly the
        training one or another.
        """
        return json.loads(
            self._model.estimate_prior(
                _arrow(tracks, columns), columns=_pairs(columns), on_error=on_error
            )
        )

    def predict_audio(
        self,
        paths: Iterable[str],
        *,
        genres: Iterable[str] = (),
        explicit: bool = False,
        title: Optional[str] = None,
        artists: str = "",
        album: str = "",
    ) -> Any:
        """Measures songs from their audio files (WAV, AIFF, FLAC, MP3, OGG, Opus, WebM, M4A) and scores them:
        ``hitcast predict --audio``. A file gives duration, loudness, tempo, key, mode and
        metre, not danceability, energy or the other columns Spotify learnt, so the model's
        from-audio model answers (``model`` is ``from-audio``). ``genres``, ``explicit``,
        ``title`` (one song), ``artists`` and ``album`` are what no file holds. Returns a
        pyarrow Table of the answers with the measured columns after them; a file that cannot
        be measured raises ``ValueError`` naming it.
        """
        result, notices = self._model.predict_audio(
            _names(paths),
            genres=_names(genres),
            explicit=explicit,
            title=title,
            artists=artists,
            album=album,
        )
        for notice in notices:
            warnings.warn(notice, UserWarning, stacklevel=2)
        import pyarrow

        return pyarrow.table(result)

    def explain(
        self,
        tracks: Any,
        *,
        top: int = 5,
        columns: Optional[Mapping[str, str]] = None,
        samples: int = 256,
        seed: int = 42,
        on_error: str = "fail",
    ) -> Any:
        """Why each track gets its probability: for each track the ``top`` features that raise
        it most (``direction`` "up", ``rank`` 1 first) and the ``top`` that lower it ("down"),
        as changes in calibrated log-odds from the model's baseline (``base_log_odds``, its
        average answer). ``value`` is the track's own value as a number (null for the genres,
        which ``value_text`` names, and for an input a song measured from audio lacks:
        ``value_text`` "not measured"),
        ``value_text`` the value as text, and ``read_as`` the value the model read in its place
        where that differs (a fence under the capped outlier setup, a median for an input not
        measured), else null. Exact
        (TreeSHAP, linear SHAP) for trees and logistic regression; sampled Shapley values with
        ``samples`` and ``seed`` for the network and the stack. Same frame kind as the input.
        """
        if top < 1 or samples < 1:
            # Checked here too: a negative count would not reach Rust as a whole number.
            raise ValueError("top and samples must be at least 1")
        answers = self._model.explain(
            _arrow(tracks, columns),
            columns=_pairs(columns),
            top=top,
            samples=samples,
            seed=seed,
            on_error=on_error,
        )
        return _like(tracks, *answers)

    def __repr__(self) -> str:
        m = self.info
        genres = "" if self._genres == "use" else f", genres={self._genres!r}"
        return (
            f"hitcast.Model({self.path!r}{genres}: {m['classifier']['family']} classifier, "
            f"{m['regressor']['family']} regressor, protocol {m['protocol']})"
        )


def _unpickle(path: str, genres: str) -> Model:
    return Model(path, genres=genres)


def _pairs(columns: Optional[Mapping[str, str]]) -> Optional[list]:
    if columns is None:
        return None
    return [(str(src), str(dst)) for src, dst in columns.items()]


def _names(items: Union[str, os.PathLike, Iterable[Any]]) -> List[str]:
    """A list of names or paths; one string or path is one item, not its letters."""
    if isinstance(items, (str, os.PathLike)):
        return [os.fspath(items)]
    return [os.fspath(i) if isinstance(i, os.PathLike) else str(i) for i in items]


def _is_pandas(obj: Any) -> bool:
    return any(t.__module__.split(".")[0] == "pandas" for t in type(obj).__mro__)


def _library(obj: Any) -> str:
    return "pandas" if _is_pandas(obj) else type(obj).__module__.split(".")[0]


def _arrow(tracks: Any, columns: Optional[Mapping[str, str]] = None) -> Any:
    """Something with the Arrow PyCapsule interface, without copying where the frame has one."""
    if _is_pandas(tracks):
        import pandas
        import pyarrow

        if isinstance(tracks, pandas.Series):
            raise TypeError(
                "tracks: expected a DataFrame, got a Series (one track is df.iloc[[i]], not df.iloc[i])"
            )
        try:
            # The index is not a column of the tracks.
            return pyarrow.Table.from_pandas(tracks, preserve_index=False)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
            # A column that Arrow cannot type (mixed values, say): if hitcast reads none of
            # them, the columns it reads are enough; else the error names the column.
            wanted = set(_hitcast.INPUT_COLUMNS) | {str(k).strip() for k in (columns or {})}
            read = [c for c in tracks.columns if isinstance(c, str) and c.strip() in wanted]
            try:
                return pyarrow.Table.from_pandas(tracks[read], preserve_index=False)
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError) as e:
                raise ValueError(f"tracks: {_mixed(tracks[read]) or e}") from e
    if _library(tracks) == "polars" and type(tracks).__name__ == "LazyFrame":
        return tracks.collect()
    if hasattr(tracks, "__arrow_c_stream__") or hasattr(tracks, "__arrow_c_array__"):
        return tracks
    if isinstance(tracks, (str, os.PathLike)):
        raise TypeError(
            f"tracks: expected a frame, got the path {os.fspath(tracks)!r}: read it first "
            "(pandas.read_csv, polars.read_parquet), or score the file with `hitcast predict "
            "--input`"
        )
    raise TypeError(
        f"tracks: expected a pandas or polars DataFrame or an Arrow table, got {type(tracks).__name__}"
    )


def _kind(value: Any) -> Optional[str]:
    """What Arrow makes of a value: text, a number, a flag, or something else; None for a gap."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        return "a number"
    return type(value).__name__


def _mixed(frame: Any) -> Optional[str]:
    """Where a pandas frame's column first holds another kind of value than its rows above: the
    column, the row (by position, from 1, as hitcast's errors count) and the value."""
    for column in frame.columns:
        first = None
        for row, value in enumerate(frame[column].tolist(), start=1):
            kind = _kind(value)
            if kind is None:
                continue
            if first is None:
                first = kind
            elif kind != first:
                return (
                    f"row {row}, {column}: {value!r} is {kind} where the rows above hold "
                    f"{first}; a column holds one kind of value"
                )
    return None


def _twice(data: Any) -> Any:
    """Tracks that can be read twice: anything but a table is read into one."""
    if type(data).__name__ in ("Table", "RecordBatch") and _library(data) == "pyarrow":
        return data
    if _library(data) == "polars" and type(data).__name__ == "DataFrame":
        return data
    import pyarrow

    return pyarrow.table(data)


def _like(tracks: Any, result: Any, rows: List[int], notices: List[str]) -> Any:
    """The answers as the same kind of frame as ``tracks``; ``rows`` gives each answer's input
    row, and each of ``notices`` becomes a warning."""
    for notice in notices:
        warnings.warn(notice, UserWarning, stacklevel=3)
    library = _library(tracks)
    if library == "pandas":
        import pyarrow

        answers = pyarrow.table(result).to_pandas()
        answers.index = tracks.index.take(rows)
        return answers
    if library == "polars":
        import polars

        return polars.DataFrame(result)
    if library == "pyarrow":
        import pyarrow

        table = pyarrow.table(result)
        kind = type(tracks).__name__
        if kind == "RecordBatch":
            return table.combine_chunks().to_batches()[0] if table.num_rows else pyarrow.RecordBatch.from_pylist([], schema=table.schema)
        if kind == "RecordBatchReader":
            return pyarrow.RecordBatchReader.from_batches(table.schema, table.to_batches())
        return table
    # Any other Arrow object (duckdb's, nanoarrow's): a pyarrow Table where pyarrow is there,
    # else the Arrow table the extension made (arro3), which any Arrow library reads.
    try:
        import pyarrow
    except ImportError:
        return result
    return pyarrow.table(result)
