"""Where a sweep's tasks run: in this process, in a pool of local processes, or on a Dask
cluster, behind one small interface (``submit``, ``as_completed``, ``close``).

A local pool whose worker process dies (killed, out of memory) is rebuilt and the tasks it
held are given back to the caller as ``Lost`` so that it can resubmit them; Dask does the
same by itself, rescheduling a dead worker's tasks on the others.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as cf_as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterator

from ..errors import ConfigError
from .worker_processes import born_ignoring_interrupts, leave_interrupts_to_the_parent, stop_workers


class Lost(Exception):
    """A task's worker died before it finished; the task itself did not fail."""


class _Done:
    """A finished task (the serial executor's futures)."""

    def __init__(self, fn: Callable, arg: Any):
        self.fn, self.arg = fn, arg

    def result(self) -> Any:
        return self.fn(self.arg)


class SerialExecutor:
    """Tasks run one after another in this process, when their results are asked for."""

    workers = 1
    description = "serial (this process)"

    def submit(self, fn: Callable, arg: Any) -> Any:
        return _Done(fn, arg)

    def as_completed(self, futures: list) -> Iterator:
        yield from futures

    def result(self, future: Any) -> Any:
        return future.result()

    def close(self, cancel: bool = False) -> None:
        pass


class LocalExecutor:
    """A pool of ``workers`` local processes (spawned: a clean interpreter each)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                   initializer=leave_interrupts_to_the_parent)

    def submit(self, fn: Callable, arg: Any) -> Any:
        # The pool starts its processes as tasks come: born ignoring Ctrl-C, they leave it
        # to this process, which stops them (close) and prints one line, not their tracebacks.
        with born_ignoring_interrupts():
            try:
                return self._pool.submit(fn, arg)
            except BrokenProcessPool:  # broken by a dead worker since: start a new pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                return self._pool.submit(fn, arg)

    def as_completed(self, futures: list) -> Iterator:
        return cf_as_completed(futures)

    def result(self, future: Any) -> Any:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise Lost(str(exc)) from None

    def close(self, cancel: bool = False) -> None:
        if cancel:  # workers ignore Ctrl-C: stopped here, or shutting down would wait for their tasks
            stop_workers(self._pool)
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


# Housekeeping timers slowed on a sweep's workers (milliseconds): the system monitor (every
# 500 ms by default), the event-loop tick (20 ms) and the memory monitor (100 ms).
# Heartbeats are left alone: the scheduler needs them to notice a dead worker.
_SLOWED_TIMERS_MS = {"monitor": 10_000, "tick": 1_000, "memory_monitor": 1_000}


def quiet_dask_worker(dask_worker=None) -> None:
    """Stop a Dask worker's statistical profiler (it samples every thread every 10 ms, which
    slows a CPU-bound simulation by several per cent, and a sweep never reads it) and slow
    its housekeeping timers."""
    if dask_worker is None:
        return
    for name in ("profile", "profile-cycle"):
        callback = dask_worker.periodic_callbacks.pop(name, None)
        if callback is not None:
            callback.stop()
    for name, interval_ms in _SLOWED_TIMERS_MS.items():
        callback = dask_worker.periodic_callbacks.get(name)
        if callback is not None:
            callback.callback_time = interval_ms


def _quiet_worker_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorker(WorkerPlugin):
        def setup(self, worker) -> None:
            quiet_dask_worker(worker)

    return QuietWorker


DASK_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "10s",
               "distributed.admin.tick.interval": "1s"}
"""Dask settings for workers this process starts (a LocalCluster). Workers started with
``dask worker`` read the same from the environment (``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``,
README), and ``quiet_dask_worker`` is run on every worker when a sweep connects anyway."""


CONNECT_TIMEOUT_SECONDS = 10.0
"""How long to wait for a Dask scheduler to answer before giving up (Dask's own default is
30 s)."""


OPTIONS = ("--scheduler", "--local-cluster")
"""The names a command gives the scheduler's address and the local cluster's size, used in
error messages (``casesim`` itself names them ``run.scheduler`` and ``run.local_cluster``)."""


class DaskExecutor:
    """Tasks on a Dask cluster: the scheduler at ``address`` (``tcp://host:8786``), or a
    ``LocalCluster`` of ``local_workers`` single-threaded worker processes. A scheduler that
    does not answer within ``connect_timeout_seconds``, or an address Dask cannot read,
    raises ConfigError naming it by ``options[0]``."""

    def __init__(self, address: str | None = None, local_workers: int | None = None,
                 connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS, options: tuple[str, str] = OPTIONS):
        _need_dask(options, address or local_workers)
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            with dask.config.set(DASK_CONFIG):
                self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None)
            address = self._cluster.scheduler_address
        else:
            _check_scheduler_address(address, options[0])
        try:
            self.client = _connect(Client, address, connect_timeout_seconds, options[0])
        except ConfigError:
            if self._cluster is not None:
                self._cluster.close()
            raise
        # A plugin, not a one-off call: workers that join later, or that a nanny restarts
        # after a crash, are quieted too.
        self.client.register_plugin(_quiet_worker_plugin()(), name="casesim-quiet-worker")
        self.workers = len(self.client.scheduler_info()["workers"])
        self.description = f"Dask at {address} ({self.workers} workers)"

    def submit(self, fn: Callable, arg: Any) -> Any:
        return self.client.submit(fn, arg, pure=False)

    def as_completed(self, futures: list) -> Iterator:
        from distributed import as_completed

        return iter(as_completed(futures))

    def result(self, future: Any) -> Any:
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as exc:  # the scheduler gave up after several dead workers
            raise Lost(str(exc)) from None

    def close(self, cancel: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _need_dask(options: tuple[str, str], value: Any) -> None:
    """ConfigError naming the options if Dask (an optional extra) is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("/".join(options), value, "needs Dask: pip install 'casesim[dask]'") from None


def check_cluster(scheduler: str | None, local_cluster: int | None, options: tuple[str, str] = OPTIONS,
                  connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Before anything runs or is written: ConfigError if the Dask cluster asked for cannot
    be had (Dask not installed; a scheduler address Dask cannot read, or that does not
    answer, tried by connecting once)."""
    if scheduler:
        DaskExecutor(scheduler, None, connect_timeout_seconds, options).close()
    elif local_cluster:
        _need_dask(options, local_cluster)


def _connect(client_class: Callable, address: str, timeout_seconds: float, option: str = OPTIONS[0]):
    """A Dask client of the scheduler at ``address``, or ConfigError within about
    ``timeout_seconds``. Dask's own timeout covers reaching the address, not a program
    there that answers in another protocol (a web server, say): its reply read as a Dask
    message may never end, or ask for exabytes. So the client is made on a thread of its
    own that is waited for no longer than the timeout, and any failure is one line."""
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = client_class(address, timeout=timeout_seconds)
        except BaseException as exc:  # noqa: BLE001 - reported below, in this process's own words
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name="casesim-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout_seconds + CONNECT_GRACE_SECONDS)
    error = outcome.get("error")
    if thread.is_alive() or isinstance(error, (OSError, TimeoutError)):  # distributed's time-out is an OSError
        longer = ", or wait longer with --connect-timeout" if option == OPTIONS[0] else ""
        raise ConfigError(option, address,
                          f"no Dask scheduler answered within {timeout_seconds:g} s; check the address and that "
                          f"the scheduler runs and is reachable from here{longer}")
    if error is not None:
        raise ConfigError(option, address, f"what answered there is not a Dask scheduler "
                                                  f"({type(error).__name__}); check the address and port")
    return outcome["client"]


CONNECT_GRACE_SECONDS = 5.0
"""Time Dask is given past its connect timeout to report on its own before it is given up."""


def _check_scheduler_address(address: str, option: str = OPTIONS[0]) -> None:
    """Raise ConfigError unless ``address`` is one Dask can connect to from another
    process: ``PROTOCOL://HOST:PORT`` with a network protocol Dask knows (tcp, tls, ...)."""
    from distributed.comm import registry
    from distributed.comm.addressing import get_address_host_port, parse_address

    protocols = sorted(set(registry.backends) - {"inproc"})  # inproc: this process only
    allowed = f"PROTOCOL://HOST:PORT with PROTOCOL one of {', '.join(protocols)}, e.g. tcp://HOST:8786"
    try:
        protocol, _ = parse_address(address, strict=True)
        if protocol not in protocols:
            raise ValueError(protocol)
        get_address_host_port(address)
    except ValueError:
        raise ConfigError(option, address, allowed) from None
    if protocol in ENCRYPTED_PROTOCOLS:
        _check_tls_settings(address, option)


ENCRYPTED_PROTOCOLS = ("tls", "wss")
TLS_SETTINGS = ("distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and distributed.comm.tls.client.key "
                "(e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE=ca.pem; README, Sweeps)")


def _check_tls_settings(address: str, option: str = OPTIONS[0]) -> None:
    """Raise ConfigError unless Dask's settings give this process a certificate to reach an
    encrypted scheduler with (read from its configuration: files or DASK_ variables)."""
    from distributed.security import Security

    try:
        context = Security().get_connection_args("client")["ssl_context"]
    except OSError as exc:  # a certificate or key file that cannot be read
        raise ConfigError(option, address, f"Dask's TLS files cannot be read ({exc}): check "
                                                  f"{TLS_SETTINGS}") from None
    if context is None:
        raise ConfigError(option, address, f"an encrypted scheduler needs this machine's TLS files: set "
                                                  f"{TLS_SETTINGS}")


def make_executor(workers: int = 1, scheduler: str | None = None, local_cluster: int | None = None,
                  connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS, options: tuple[str, str] = OPTIONS):
    """The executor the options ask for: Dask if a scheduler or a local cluster is named
    (a scheduler that does not answer within ``connect_timeout_seconds`` raises
    ConfigError naming ``options[0]``), else local processes (or this process, for one
    worker)."""
    if scheduler is not None or local_cluster is not None:
        return DaskExecutor(scheduler, local_cluster, connect_timeout_seconds, options)
    return SerialExecutor() if workers <= 1 else LocalExecutor(workers)
