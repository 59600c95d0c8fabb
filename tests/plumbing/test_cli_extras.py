"""A command whose optional extra is missing says which extra and how a clone installs it, in one line."""
import pytest

from plumbing.cli import needs_extra
from plumbing.errors import ToolkitError, exit_code


@pytest.mark.parametrize("extra, how", [("train", "`make install` in the clone"),
                                        ("onnx", "pip install -e '.[onnx]' in the clone")])
def test_a_missing_extra_names_itself_and_how_to_install_it(extra, how):
    with pytest.raises(ToolkitError) as info:
        with needs_extra(extra):
            import a_module_that_is_not_installed  # noqa: F401
    message = str(info.value)
    assert message.startswith(f"the {extra} extra is needed (No module named 'a_module_that_is_not_installed')")
    assert how in message and "rawseg-bench[" not in message and "\n" not in message
    assert exit_code(info.value) == 1
