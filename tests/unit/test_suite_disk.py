"""The suite's own check before it starts: too little free disk is one line, not a failure deep in a test."""

from tests.conftest import SUITE_DISK_GIB, disk_shortfall


def test_too_little_free_disk_is_one_line_naming_the_folder_and_the_need(tmp_path):
    assert disk_shortfall(str(tmp_path), 0) is None
    message = disk_shortfall(str(tmp_path), 10**9)
    assert message.startswith("only ") and f"under {tmp_path}: the suite needs 1000000000 GiB" in message
    assert "\n" not in message and SUITE_DISK_GIB > 0
