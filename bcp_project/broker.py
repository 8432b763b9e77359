"""The filesystem broker of the zero-set-up demo (no Redis), with one fix: a message is written whole before a
worker can see it.

kombu's filesystem transport creates `<time>_<uuid>.<queue>.msg` and only then locks and writes it. A worker
polling in between moves the empty file away, reads nothing, and dies on the JSON ("Unrecoverable error:
JSONDecodeError"), taking `make run` down with it. Here a message is written under a name the worker does not
look for (`….msg.part`) and renamed into place, which is atomic on one filesystem: a worker sees a whole message
or none. Everything else is kombu's."""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        filename = os.path.join(self.data_folder_out, f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg")
        partial = filename + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, filename)
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {filename!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
