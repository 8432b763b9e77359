"""The demo's filesystem broker: a worker polling while tasks are sent never reads half a message. kombu's own
transport creates the message file before writing it, and a worker that moved the empty file away died on it
("Unrecoverable error: JSONDecodeError"), taking `make run` down; found by a walk of the demo."""

from kombu import Connection

from bcp_project.broker import Transport


def _connection(folder):
    return Connection("filesystem://", transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control"),
        "store_processed": False})


def test_filesystem_is_our_transport():
    assert Connection("filesystem://").transport_cls == "filesystem"
    with Connection("filesystem://") as connection:
        assert isinstance(connection.transport, Transport)


class _LooksAtTheFolder:
    """A payload value that, while the message is being written, notes which messages a worker could see."""

    def __init__(self, folder):
        self.folder, self.seen = folder, []

    def __json__(self):
        self.seen += [path.name for path in self.folder.glob("*.msg")]
        return "x"


def test_a_message_is_not_visible_to_a_worker_before_it_is_written(tmp_path):
    """kombu's own transport fails this: its file is there, empty, while the message is serialised."""
    spy = _LooksAtTheFolder(tmp_path)
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        channel._put("q", {"spy": spy})  # what publishing a task ends in: the envelope written to the folder
        assert spy.seen == []
        assert channel._get("q") == {"spy": "x"}
