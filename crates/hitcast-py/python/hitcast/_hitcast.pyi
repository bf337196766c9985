"""Type stubs of the compiled module (Rust, PyO3). Use the ``hitcast`` package, not this."""

import os
from pathlib import Path
from typing import Any, List, Optional, Tuple, Union

__version__: str
ANSWER_COLUMNS: List[str]
INPUT_COLUMNS: List[str]

class PriorRefused(ValueError): ...

def run(
    data: Optional[Union[str, os.PathLike[str]]],
    out: Optional[Union[str, os.PathLike[str]]],
    quick: bool,
    seed: int,
    columns: Optional[List[Tuple[str, str]]],
    progress: bool,
    on_error: str = "fail",
    delimiter: Optional[str] = None,
) -> Tuple[str, List[str]]: ...

class Model:
    def __init__(self, path: Union[str, os.PathLike[str]], *, genres: str = "use") -> None: ...
    @property
    def path(self) -> Path: ...
    @property
    def metadata_json(self) -> str: ...
    def predict(
        self,
        tracks: Any,
        *,
        columns: Optional[List[Tuple[str, str]]] = None,
        keep: List[str] = ...,
        on_error: str = "fail",
        score: bool = True,
        prior: Optional[float] = None,
    ) -> Tuple[Any, List[int], List[str]]: ...
    def predict_audio(
        self,
        paths: List[str],
        *,
        genres: List[str] = ...,
        explicit: bool = False,
        title: Optional[str] = None,
        artists: str = "",
        album: str = "",
    ) -> Tuple[Any, List[str]]: ...
    def estimate_prior(
        self,
        tracks: Any,
        *,
        columns: Optional[List[Tuple[str, str]]] = None,
        on_error: str = "fail",
    ) -> str: ...
    def explain(
        self,
        tracks: Any,
        *,
        columns: Optional[List[Tuple[str, str]]] = None,
        top: int = 5,
        samples: int = 256,
        seed: int = 42,
        on_error: str = "fail",
    ) -> Tuple[Any, List[int], List[str]]: ...
    @staticmethod
    def answers_schema(keep: List[str] = ..., score: bool = True) -> Any: ...
