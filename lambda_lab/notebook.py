"""Display defaults that make a chapter print the same thing on every machine."""

from __future__ import annotations

import sys
import warnings
from importlib import resources

from .errors import LabError

#: The errors a chapter raises on purpose (a refused setting, a throttle, a non-local endpoint). Their
#: message names the AWS rule and limit, so the frames inside lambda_lab only add noise, and paths of
#: the machine that ran the notebook.
LAB_ERRORS: tuple[type[BaseException], ...] = (LabError,)


def setup() -> None:
    """Set pandas, matplotlib, warning and error-display defaults for a chapter (idempotent)."""
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd

    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.precision", 3)
    matplotlib.rcdefaults()
    with resources.as_file(resources.files("lambda_lab") / "lab.mplstyle") as style:
        plt.style.use(str(style))
    # Third-party deprecation chatter would land in stderr and differ between versions.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    show_lab_errors_briefly()


def short_traceback(etype: type[BaseException], value: BaseException) -> list[str]:
    """The traceback a lab error gets in a notebook: one line, ``ErrorName: message``."""
    message = str(value)
    return [f"{etype.__name__}: {message}" if message else etype.__name__]


def show_lab_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython custom exception handler (``set_custom_exc``) for :data:`LAB_ERRORS`.

    IPython's ``run_code`` calls the handler instead of ``showtraceback`` and ignores what it
    returns, so the handler shows the error itself through ``shell._showtraceback``: ipykernel's
    version publishes an ``error`` message (ename, evalue, traceback), which the notebook stores as
    an ``output_type: error`` output and nbval reads for ``raises-exception`` cells; the terminal's
    version prints the lines. The cell still fails (``run_code`` records the error), so Run All stops
    at an untagged cell as usual. The full traceback stays one ``%tb`` (or ``%debug``) away.
    """
    stb = short_traceback(etype, value)
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    show = getattr(shell, "_showtraceback", None)
    if show is None:  # not an IPython shell: print, as IPython's own _showtraceback does
        print("\n".join(stb))
    else:
        show(etype, value, stb)
    return stb


def show_lab_errors_briefly(shell=None) -> bool:
    """Show :data:`LAB_ERRORS` as ``ErrorName: message`` in IPython; False (and nothing done) outside it.

    Calling it again replaces the registration with the same one. It does replace a custom
    exception handler that someone else registered, as ``set_custom_exc`` keeps only one.
    """
    if shell is None:
        if "IPython" not in sys.modules:  # not running under IPython (a script, pytest)
            return False
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            return False
    shell.set_custom_exc(LAB_ERRORS, show_lab_error)
    return True
