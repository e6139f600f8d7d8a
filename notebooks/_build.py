"""Write the teaching notebooks from the cell lists below: ``python notebooks/_build.py``.

Each notebook is a list of cells: ``md(text)`` for prose, ``code(source)`` for
code. The files are written without outputs; commit them as written.
"""

from __future__ import annotations

import pathlib
import sys
import textwrap

import nbformat

HERE = pathlib.Path(__file__).parent


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(*parts: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("\n".join(textwrap.dedent(p).strip("\n") for p in parts).strip())


def write(name: str, cells: list[nbformat.NotebookNode]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = f"nb{name[:2]}-{i:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, HERE / name)


# --------------------------------------------------------------------------- 01
NB01 = [
    md("""
    # 1. Apps and futures

    A plain Python program does one thing at a time: a call runs to the end before the
    next line starts. A parsl_nb program is different: **calling an app starts a task and
    hands you a future at once**, and your program keeps going. You wait only when you ask
    for a value with `result()`.

    In this notebook you will time the same work written both ways, and draw *what ran
    when*.
    """),
    code("""
    import time

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import ThreadPoolExecutor
    """),
    md("""
    ## The sequential program

    `slow_double` stands for any function that takes a while (here it sleeps half a second).
    Four calls, one after the other:
    """),
    code("""
    def slow_double(x):
        time.sleep(0.5)
        return 2 * x

    t0 = time.perf_counter()
    sequential = [slow_double(i) for i in range(4)]
    sequential_time = time.perf_counter() - t0
    print(sequential, f"in {sequential_time:.2f} s")
    assert sequential_time >= 2.0   # 4 calls x 0.5 s, one after the other
    """),
    md("""
    ## The concurrent program

    `parsl.load()` starts a *DataFlowKernel*: the object that receives tasks and runs them
    on an *executor*. Here the executor is a pool of 4 threads in this very process.
    The `@python_app` decorator turns the function into an app.
    """),
    code("""
    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4)]))

    @python_app
    def double(x):
        import time
        time.sleep(0.5)
        return 2 * x
    """),
    code("""
    t0 = time.perf_counter()
    futures = [double(i) for i in range(4)]      # four tasks start; nothing waits here
    submit_time = time.perf_counter() - t0
    print(f"four calls returned after {submit_time * 1000:.1f} ms")
    print(futures[0])
    assert submit_time < 0.25                    # far less than one task's 0.5 s
    assert not any(f.done() for f in futures)    # the tasks are still sleeping
    """),
    md("""
    Each call gave back an `AppFuture`: a promise of the value. `result()` is the one place
    where the program waits, and only for that one task.
    """),
    code("""
    concurrent = [f.result() for f in futures]   # the only wait
    concurrent_time = time.perf_counter() - t0
    print(concurrent, f"in {concurrent_time:.2f} s")
    assert concurrent == sequential              # same answers ...
    assert concurrent_time < sequential_time / 2 # ... in a fraction of the time
    """),
    md("""
    ## What ran when

    Each bar is one task, from the moment a worker started it to the moment it finished.
    In the sequential program the bars would sit end to end; here they overlap.
    """),
    code('''
    %matplotlib inline
    from parsl_nb.plot import timeline

    timeline(futures, title="four calls of double on four threads")
    '''),
    code("""
    from _teaching import spans

    rows = spans(parsl.dfk(), futures)
    latest_start = max(start for _, _, start, _ in rows)
    earliest_end = min(end for _, _, _, end in rows)
    assert latest_start < earliest_end   # every task started before any finished: they overlapped
    """),
    md("""
    ## A future carries failures too

    If the task raises, `result()` raises the same exception in your cell. Nothing is lost,
    and nothing is raised until you ask.
    """),
    code("""
    @python_app
    def inverse(x):
        return 1 / x

    bad = inverse(0)                     # no error here ...
    try:
        bad.result()                     # ... it arrives with the value
    except ZeroDivisionError as e:
        print("the task failed:", repr(e))
    assert isinstance(bad.exception(), ZeroDivisionError)
    """),
    code("""
    parsl.clear()   # shut the kernel down; the next notebook loads its own
    """),
    md("""
    ## Exercises

    1. Load the kernel with `max_threads=2` instead of 4 and run the timed cells again.
       How long does it take now, and what does the timeline look like? (Notebook 3 comes
       back to this.)
    2. Move `print(f.result())` *inside* the loop that submits the tasks. What happens to
       the total time, and why?
    3. Futures are real `concurrent.futures.Future` objects: use
       `concurrent.futures.as_completed(futures)` to print results in the order they finish.
    """),
]

# --------------------------------------------------------------------------- 02
NB02 = [
    md("""
    # 2. Dependencies and the task graph

    A future can be passed to another app **before it has a value**. The kernel notices,
    and holds the new task back until the future is done; then it hands the task the
    value, not the future. You write ordinary-looking calls; the kernel builds the
    graph of what must wait for what.
    """),
    code("""
    import time

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import ThreadPoolExecutor
    from _teaching import spans

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4)]))

    @python_app
    def make(x):
        import time
        time.sleep(0.3)
        return x

    @python_app
    def square(x):
        import time
        time.sleep(0.3)
        return x * x

    @python_app
    def total(*values):
        return sum(values)
    """),
    md("""
    ## A chain

    `square(a)` receives the *future* `a`. Look at the states right after the calls:
    the second task is `pending`, waiting for the first.
    """),
    code("""
    a = make(3)
    b = square(a)                 # a future as an argument: b waits for a
    print(a.task_status(), b.task_status())
    assert b.task_status() == "pending"
    print(b.result())
    assert b.result() == 9
    """),
    md("""
    ## Fan-out and fan-in

    One value feeds many tasks (fan-out); many values feed one task (fan-in). The four
    `times` tasks run at the same time; `total` cannot start until every one of them is done.
    """),
    code("""
    @python_app
    def times(x, k):
        import time
        time.sleep(0.3)
        return x * k

    base = make(3)
    squares = [times(base, k) for k in range(4)]     # fan-out: one value, four tasks
    answer = total(*squares)                          # fan-in: four values, one task
    print(answer.result())
    assert answer.result() == 3 * (0 + 1 + 2 + 3)
    """),
    code("""
    rows = {tid: (start, end) for tid, _, start, end in spans(parsl.dfk())}
    fan_in_start = rows[answer.tid][0]
    assert all(rows[s.tid][1] <= fan_in_start for s in squares)   # total waited for every part
    print(f"total started {fan_in_start:.2f} s after the first task, after all {len(squares)} parts")
    """),
    md("""
    ## The graph the kernel built

    `parsl.dfk().graph` is a snapshot of the task graph as a networkx `DiGraph`; edges
    run from a dependency to the task that needed it.
    """),
    code("""
    g = parsl.dfk().graph
    for s in squares:
        assert g.has_edge(s.tid, answer.tid)
    print(g.number_of_nodes(), "tasks,", g.number_of_edges(), "dependencies")
    """),
    code('''
    from parsl_nb.widgets import DagWidget

    DagWidget(parsl.dfk())        # live: it follows the kernel as tasks are added and finish
    '''),
    md("""
    The widget needs a live Jupyter front end; on a static page (or on GitHub) you see its
    fallback picture. `parsl_nb.plot.dag` draws the same graph as a matplotlib figure:
    """),
    code("""
    %matplotlib inline
    from parsl_nb.plot import dag

    dag(title="make -> times (fan-out) -> total (fan-in)")
    """),
    md("""
    ## Futures inside containers

    parsl_nb looks for futures inside lists, tuples, sets and dicts too (Parsl looks only
    at the top-level arguments and `inputs=`). So a list of futures can be passed as one
    argument:
    """),
    code("""
    @python_app
    def total_of(values):
        return sum(values)

    listed = total_of([square(make(i)) for i in range(3)])
    assert listed.result() == 0 + 1 + 4
    """),
    md("""
    ## A failure travels along the edges

    If a task fails, the tasks that depend on it cannot run. They end in the state
    `dep_fail`, and their error names the chain back to the failure (notebook 7 has more).
    """),
    code("""
    @python_app
    def broken():
        raise ValueError("no data")

    downstream = square(broken())
    try:
        downstream.result()
    except Exception as e:
        print(type(e).__name__, ":", e)
    assert downstream.task_status() == "dep_fail"
    """),
    code("""
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Build a chain of 5 `square` calls, each on the previous future. How long does it
       take, and why can more threads not make it faster?
    2. Build a binary tree reduction: pairs of values summed by `total`, then pairs of
       those, down to one. Draw its graph.
    3. Call `square(a)` where `a` is a *finished* future. Does the kernel still track the
       dependency? Look at `parsl.dfk().graph`.
    """),
]

# --------------------------------------------------------------------------- 03
NB03 = [
    md("""
    # 3. Execution: executors, workers, blocks

    *Concurrent* means tasks are allowed to run at the same time. *Parallel* means they
    actually do. An **executor** decides how many run at once: it has a fixed number of
    **workers** (threads, or engine processes), and tasks beyond that wait in its queue.
    Executors that start workers through a batch scheduler do it in **blocks**: one job
    that brings up several workers.

    This notebook measures both ideas rather than asserting them. (The online docs show it
    without outputs, since the numbers are about the machine that runs it: run it to see
    yours.)
    """),
    code("""
    %matplotlib inline
    import os
    import time

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import ThreadPoolExecutor
    from parsl_nb.plot import timeline
    from _teaching import spans
    """),
    md("""
    ## More tasks than workers

    Six tasks that each sleep 0.5 s, on an executor with **two** workers. All six are
    concurrent (submitted together, none depends on another), but only two can be running at
    any moment, so they go in three rounds.
    """),
    code("""
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)]))

    @python_app
    def nap(seconds):
        import time
        time.sleep(seconds)
        return seconds

    t0 = time.perf_counter()
    naps = [nap(0.5) for _ in range(6)]
    [f.result() for f in naps]
    wall = time.perf_counter() - t0
    print(f"6 tasks x 0.5 s on 2 workers: {wall:.2f} s (= {wall / 0.5:.1f} task lengths)")
    assert 1.4 <= wall < 2.4, wall        # three rounds of two, not one round of six
    """),
    code("""
    timeline(naps, title="6 naps on 2 workers: three rounds")
    """),
    code("""
    # never more than two tasks running at once
    rows = spans(parsl.dfk(), naps)
    def running_at(t):
        return sum(start <= t < end for _, _, start, end in rows)
    busiest = max(running_at(start + 1e-3) for _, _, start, _ in rows)
    print("most tasks running at once:", busiest)
    assert busiest == 2
    parsl.clear()
    """),
    md("""
    ## Threads share one interpreter; engines do not

    Sleeping tasks overlap on threads because a sleeping thread gives the interpreter
    away. A task that computes in pure Python holds Python's global interpreter lock
    (GIL), so two such tasks on two threads take turns: **concurrent, but not parallel**.
    ipyparallel **engines** are separate Python processes, each with its own interpreter,
    so two engines can compute on two cores at the same moment: **parallel**.

    `spin` is a CPU-bound task. It reports when it started and ended, how much CPU time
    its own thread got (`time.thread_time()`), and which process it ran in.
    """),
    code("""
    def spin(n):
        import os
        import time
        start, cpu0 = time.time(), time.thread_time()
        total = 0
        for i in range(n):
            total += i * i
        return start, time.time(), time.thread_time() - cpu0, os.getpid()

    N = 3_000_000
    t0 = time.perf_counter(); spin(N); one = time.perf_counter() - t0
    print(f"one spin on its own: {one:.2f} s")
    """),
    md("""
    Now a kernel with two executors: 2 threads, and an `EngineExecutor` whose first
    **block** starts 2 engines on this machine (`engines_per_node=2`; the default
    provider, `LocalProvider`, runs a block as a group of local processes). An app picks
    its executor with `executors=[...]`, so the same function becomes one app per
    executor.
    """),
    code("""
    from parsl_nb.executors import EngineExecutor

    engines = EngineExecutor(label="engines", engines_per_node=2, init_blocks=1, max_blocks=2)
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2), engines]))

    spin_on_threads = python_app(spin, executors=["threads"])
    spin_on_engines = python_app(spin, executors=["engines"])

    t0 = time.perf_counter()
    while len(engines.engines) < 2:                  # engine processes take a few seconds to start
        time.sleep(0.1)
    print(f"2 engines connected after {time.perf_counter() - t0:.1f} s:", engines.engines)
    """),
    md("""
    Two spins on each executor. *Cores used* is the CPU time the two tasks got, divided by
    the wall time from the first start to the last end: 1.0 means one core was busy the
    whole time, 2.0 means both were. The cell also measures how much of the machine stayed
    **idle** meanwhile (`psutil.cpu_times()`), because other programs want the cores too:
    parallel work needs free cores, and a busy machine has none to give.
    """),
    code("""
    import psutil

    def two_spins(app):
        idle0, t0 = psutil.cpu_times().idle, time.perf_counter()
        futures = [app(N), app(N)]
        rows = [f.result() for f in futures]
        idle = (psutil.cpu_times().idle - idle0) / (time.perf_counter() - t0)   # idle cores
        wall = max(r[1] for r in rows) - min(r[0] for r in rows)
        return {"futures": futures, "wall": wall, "cores": sum(r[2] for r in rows) / wall, "idle": idle,
                "pids": {r[3] for r in rows}}

    # Measure both executors back to back, up to 5 rounds, and keep the round where the
    # engines did best compared with the threads.
    rounds = []
    for _ in range(5):
        on_threads, on_engines = two_spins(spin_on_threads), two_spins(spin_on_engines)
        rounds.append((on_threads, on_engines))
        print(f"threads: {on_threads['wall']:.2f} s, {on_threads['cores']:.2f} cores used | "
              f"engines: {on_engines['wall']:.2f} s, {on_engines['cores']:.2f} cores used, "
              f"{on_engines['idle']:.1f} cores idle")
        if on_engines["cores"] > 1.5 * on_threads["cores"]:
            break
    threads_run, engines_run = max(rounds, key=lambda r: r[1]["cores"] / r[0]["cores"])
    """),
    code("""
    # The GIL: Python code on threads never uses more than one core, however many there are
    assert all(t["cores"] < 1.15 for t, _ in rounds), [t["cores"] for t, _ in rounds]
    # Threads run in the notebook's process (one interpreter, one GIL); the two engine
    # tasks ran in two other processes, each with an interpreter of its own
    assert all(t["pids"] == {os.getpid()} for t, _ in rounds)
    assert all(len(e["pids"]) == 2 and os.getpid() not in e["pids"] for _, e in rounds)
    # ... and given free cores they use them: about 2x the threads on an idle 2-core machine.
    # If other programs kept every core busy there was nothing to gain, and the cell says so.
    parallel = engines_run["cores"] > 1.2 * threads_run["cores"]
    busy = all(e["idle"] < 0.3 for _, e in rounds)
    assert parallel or busy, (engines_run, threads_run)
    if not parallel:
        print("This machine was busy with other work during every round: run the cell again when it is quieter.")
    """),
    md("""
    The timeline shows the difference. Both pairs are **concurrent**: their bars overlap.
    Only the engine pair ran in **parallel**, so its bars are about half as long: each
    thread ran only while it held the GIL, about half of the time.
    """),
    code("""
    timeline(threads_run["futures"] + engines_run["futures"], title="two spins on 2 threads, then on 2 engines")
    """),
    md("""
    ## Choosing where a task runs

    An app may name the executors it is allowed to use with `executors=[...]` (above:
    `spin_on_threads` and `spin_on_engines` wrap the same function). With several executors
    and no choice made, the kernel picks one for each task.
    """),
    code("""
    for label, ex in parsl.dfk().executors.items():
        if not label.startswith("_"):
            print(label, ex.status_summary())
    """),
    md("""
    ## Blocks

    The engine executor starts its workers in **blocks**. A block is one request to a
    *provider*: on this machine a group of local engine processes, on a cluster one batch
    job (notebook 9). The executor's *strategy* adds blocks when tasks queue up and
    retires blocks that stay idle; you can also scale by hand with `%parsl_scale +1` / `-1`,
    or `parsl_nb.jupyter.control.scale`, the function behind the magic.

    `control.status()` (the `%parsl_status` magic) shows each executor with its blocks as
    `(block id, job id, state, engines)`:
    """),
    code("""
    from parsl_nb.jupyter import control

    control.status()
    """),
    code("""
    def wait_for(condition, what, timeout=30):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)

    print(control.scale(+1, executor="engines"))     # one more block: two more engines
    t0 = time.perf_counter()
    wait_for(lambda: [(b.state.value, b.engines) for b in engines.blocks] == [("running", 2)] * 2,
             "the second block's engines")
    print(f"4 engines after {time.perf_counter() - t0:.1f} s")
    control.status()
    """),
    code("""
    assert len(engines.engines) == 4                # two blocks, each running 2 engines
    print(control.scale(-1, executor="engines"))     # retire an idle block: its job is cancelled
    wait_for(lambda: len(engines.engines) == 2, "the retired block's engines to leave")
    assert sorted(b.state.value for b in engines.blocks) == ["cancelled", "running"]
    control.status()
    """),
    code("""
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Run the six naps on `max_threads=3` and `max_threads=6`. Predict the wall time first.
    2. Replace `time.sleep` in `nap` by `spin`. Which of the two executors now gives three
       rounds of two, and which gives one long round?
    3. What happens to the timeline if one of the six tasks sleeps 1.5 s and the others 0.25 s?
    """),
]

# --------------------------------------------------------------------------- 04
NB04 = [
    md("""
    # 4. Communication: values and files

    Tasks talk to the rest of the program in two ways. **Parameter passing**: arguments go
    in, the return value comes out through the future. **File passing**: one task writes a
    file, another reads it, and `File` objects in `inputs=`/`outputs=` tell the kernel about
    it. Either way the kernel also uses the exchange to **order** the tasks: a task that
    needs a value or a file waits for it.
    """),
    code("""
    import os
    import time
    from dataclasses import dataclass

    import numpy as np

    import parsl_nb as parsl
    from parsl_nb import Config, File, bash_app, python_app
    from parsl_nb.executors import ThreadPoolExecutor
    from _teaching import spans

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4)]))
    os.makedirs("data", exist_ok=True)
    """),
    md("""
    ## Parameters: numbers, arrays, objects

    Anything can go in and come out. (On engines, arguments and results are serialised
    with cloudpickle: they must pickle. Notebook 5 looks at what that changes.)
    """),
    code("""
    @dataclass
    class Sample:
        name: str
        values: np.ndarray

    @python_app
    def describe(sample, scale=1.0):
        return {"name": sample.name, "mean": float(sample.values.mean() * scale)}

    @python_app
    def normalise(a):
        return (a - a.mean()) / a.std()

    s = Sample("run-1", np.arange(10.0))
    print(describe(s, scale=2).result())
    z = normalise(np.random.default_rng(0).normal(5, 3, 1000)).result()
    assert abs(z.mean()) < 1e-9 and abs(z.std() - 1) < 1e-9
    """),
    md("""
    ## Files: `File`, `outputs=`, `inputs=`, `DataFuture`

    A bash app writes a file named in `outputs=`. Its future carries one `DataFuture` per
    output file in `.outputs`. Passing that DataFuture in `inputs=` of the next app makes it
    wait until the file is complete.
    """),
    code("""
    @bash_app
    def write_numbers(n, outputs=()):
        return f"sleep 0.5; seq 1 {n} > {outputs[0]}"

    @python_app
    def add_up(inputs=()):
        with open(inputs[0]) as f:
            return sum(int(line) for line in f)

    writer = write_numbers(100, outputs=[File("data/numbers.txt")])
    numbers = writer.outputs[0]
    print(numbers)                       # a DataFuture: the file is not there yet
    reader = add_up(inputs=[numbers])
    print("reader is", reader.task_status())
    assert reader.result() == 5050
    """),
    code("""
    # the reader started only once the writer had finished
    rows = {tid: (start, end) for tid, _, start, end in spans(parsl.dfk())}
    assert rows[reader.tid][0] >= rows[writer.tid][1]
    print(numbers.result(), "->", numbers.filepath)
    """),
    md("""
    ## Both kinds, side by side

    Passing a value or a file synchronises the same way. Choose files when the data is
    large, already on disk, or meant for a program that is not Python; choose values
    otherwise.
    """),
    code("""
    @python_app
    def make_array(n):
        return np.arange(n)

    @python_app
    def save(a, outputs=()):
        np.save(outputs[0].filepath, a)

    @python_app
    def load_sum(inputs=()):
        return int(np.load(inputs[0].filepath).sum())

    by_value = make_array(1000)
    saved = save(by_value, outputs=[File("data/array.npy")])
    by_file = load_sum(inputs=saved.outputs)
    assert by_file.result() == int(by_value.result().sum())
    """),
    md("""
    ## Files from elsewhere: staging

    A `File` can name a URL instead of a path. Pass it to an app and the kernel first runs
    a **`stage_in` task** that downloads it; the app waits for that task like for any other
    dependency, and receives the local copy (`inputs[0]`, `file.filepath`). The download
    is a task in the graph, so you can watch data move. Here a small web server on this
    machine stands in for a data portal.
    """),
    code("""
    import functools
    import hashlib
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    os.makedirs("data/www", exist_ok=True)
    with open("data/www/primes.txt", "w") as f:
        f.write("\\n".join(str(p) for p in [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]) + "\\n")

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory="data/www"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print("serving data/www at", base)
    """),
    code("""
    @python_app
    def total(inputs=()):
        with open(inputs[0]) as f:          # inputs[0] is the local copy
            return sum(int(line) for line in f)

    @bash_app
    def count_lines(inputs=(), stdout=None):
        return f"wc -l < {inputs[0]}"

    remote = File(f"{base}/primes.txt")
    assert total(inputs=[remote]).result() == 129
    count_lines(inputs=[remote], stdout="data/count.txt").result()
    print("lines:", open("data/count.txt").read().strip())
    """),
    md("""
    Each call got its own `stage_in:primes.txt` task, and the app waited for it:
    """),
    code("""
    g = parsl.dfk().graph
    staged = [t for t, node in g.nodes(data=True) if node["kind"] == "stage_in"]
    assert staged and all(any(True for _ in g.successors(t)) for t in staged)
    for tid, node in sorted(g.nodes(data=True)):
        print(tid, f"{node['kind']:9}", f"{node['app']:20}", node["state"], "->", list(g.successors(tid)))
    """),
    md("""
    A download that fails (a missing file, a server that is down, a checksum that does not
    match) fails the tasks that needed it with a `DependencyError` whose cause is a
    `StagingError` naming the URL. A broken or partial download never appears under the
    file's name. Add `#sha256=<digest>` to a URL to have the copy checked.
    """),
    code("""
    digest = hashlib.sha256(open("data/www/primes.txt", "rb").read()).hexdigest()
    print("with checksum:", total(inputs=[File(f"{base}/primes.txt#sha256={digest}")]).result())

    missing = total(inputs=[File(f"{base}/no-such-file.txt")])
    wrong = total(inputs=[File(f"{base}/primes.txt#sha256={'0' * 64}")])
    for fut in (missing, wrong):
        try:
            fut.result()
        except Exception as e:
            assert type(e.__cause__).__name__ == "StagingError"
            print(type(e).__name__, "<-", type(e.__cause__).__name__)
            print("   ", e.__cause__)
    """),
    code("""
    server.shutdown()
    """),
    code("""
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Forget `inputs=` and pass the file name as a plain string to `add_up`. What can go
       wrong, and why does it seem to work sometimes?
    2. Make a pipeline of three bash apps, each reading the previous file and writing a new
       one (for example `sort`, then `uniq -c`, then `head`).
    3. What does `reader.result()` raise if `write_numbers` runs `exit 1`?
    """),
]

# --------------------------------------------------------------------------- 05
NB05 = [
    md("""
    # 5. The environment a task runs in

    A task runs somewhere: in some **memory** (the variables and modules it can see), on
    some **file system**, and with some **services** within reach. On the thread executor
    a task lives in the notebook's own process and sees everything the notebook sees. On
    engines it lives in another process, maybe on another machine: it sees only what was
    sent to it.

    Below, the *same probes* run on threads and on engines, and the answers are collected
    into one table at the end.
    """),
    code("""
    import os
    import string
    import threading

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import EngineExecutor, ThreadPoolExecutor

    engines = EngineExecutor(label="engines", engines_per_node=2)   # 2 local engine processes
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads"), engines]))
    WHERE = ["threads", "engines"]
    table = {}

    def on_both(func):
        # the same function as an app on each executor
        return {w: python_app(func, executors=[w]) for w in WHERE}
    """),
    md("""
    ## Memory: which process?
    """),
    code("""
    def whoami():
        import os
        return os.getpid()

    pids = {w: app().result() for w, app in on_both(whoami).items()}
    table["runs in the notebook's process"] = {w: pids[w] == os.getpid() for w in WHERE}
    print("notebook", os.getpid(), pids)
    """),
    md("""
    ## Memory: reading a global

    A function defined in the notebook travels to an engine together with the globals it
    names, as a **copy taken when the task is sent**. So reading works on both, but the
    engine sees a snapshot, not the live variable.
    """),
    code("""
    answer = 42

    def read_answer():
        return answer

    seen = {w: app().result() for w, app in on_both(read_answer).items()}
    table["reads a notebook global"] = {w: seen[w] == 42 for w in WHERE}
    print(seen)
    """),
    md("""
    ## Memory: writing a global, changing an argument

    On threads a task that changes a shared object changes *the* object. On engines it
    changes its own copy, which is thrown away when the task ends. If you want a value
    back, return it.
    """),
    code("""
    counter = {"n": 0}

    def bump():
        counter["n"] += 1

    for w, app in on_both(bump).items():
        before = counter["n"]
        app().result()
        table.setdefault("its change to a global is seen by the notebook", {})[w] = counter["n"] > before

    def append_to(items):
        items.append("from the task")

    for w, app in on_both(append_to).items():
        mine = []
        app(mine).result()
        table.setdefault("its change to an argument is seen by the caller", {})[w] = mine == ["from the task"]
    print(counter, table)
    """),
    md("""
    ## Memory: modules are per process

    A module named by the function is imported again, by name, on the engine: it works if
    the engine can import it, but whatever the notebook did to the module afterwards stays
    in the notebook. Parsl's advice "import inside the app" makes this explicit.
    """),
    code("""
    string.teaching_note = "set in the notebook"

    def read_note():
        import string
        return getattr(string, "teaching_note", None)

    notes = {w: app().result() for w, app in on_both(read_note).items()}
    table["sees module state set in the notebook"] = {w: notes[w] is not None for w in WHERE}
    print(notes)
    """),
    md("""
    ## Memory: things that cannot travel

    A lock, an open file, a database connection belong to one process. A thread task can
    use the notebook's; an engine task cannot receive them at all.
    """),
    code("""
    lock = threading.Lock()

    def use_lock():
        with lock:
            return "locked"

    def works(fut):
        try:
            fut.result()
            return True
        except Exception as e:
            print(f"  {type(e).__name__}: {str(e)[:100]}")
            return False

    table["can use an unpicklable notebook object (a lock)"] = {
        w: works(app()) for w, app in on_both(use_lock).items()}
    """),
    md("""
    ## File system

    On this machine every worker sees the same disk, so a file written by the notebook can
    be read by any task. On a cluster that holds only where nodes share a file system
    (your home or project directory usually, `/tmp` never).
    """),
    code("""
    with open("answer.txt", "w") as f:
        f.write("42")

    def read_file():
        with open("answer.txt") as f:
            return f.read()

    table["reads a file the notebook wrote (same machine)"] = {
        w: app().result() == "42" for w, app in on_both(read_file).items()}
    """),
    md("""
    ## Services

    A network service (a database, a web API, a message queue) is reached by address, so
    every task can use it, wherever it runs, if the network lets it through. Here the
    "service" is a tiny HTTP server started by the notebook on localhost.
    """),
    code("""
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/answer.txt"

    def fetch(url):
        import urllib.request
        return urllib.request.urlopen(url, timeout=10).read().decode()

    table["reaches a network service"] = {w: app(url).result() == "42" for w, app in on_both(fetch).items()}
    server.shutdown()
    """),
    md("""
    ## What each executor shares
    """),
    code("""
    from IPython.display import Markdown

    mark = {True: "yes", False: "no"}
    lines = ["| | plain Python | threads | engines |", "|---|---|---|---|"]
    lines += [f"| {q} | yes | {mark[a['threads']]} | {mark[a['engines']]} |" for q, a in table.items()]
    Markdown("\\n".join(lines))
    """),
    code("""
    # The notebook checks its own claims: threads share everything ...
    assert all(a["threads"] for a in table.values())
    # ... engines share the disk and the network here, but not memory:
    memory_rows = [q for q in table if "file" not in q and "service" not in q and "reads a notebook global" not in q]
    assert len(memory_rows) == 5, memory_rows
    assert not any(table[q]["engines"] for q in memory_rows), table
    # so on every memory row the two columns really differ
    assert all(table[q]["threads"] != table[q]["engines"] for q in memory_rows)
    assert table["reads a notebook global"]["engines"]          # a copy travels with the function
    assert table["reads a file the notebook wrote (same machine)"]["engines"]
    assert table["reaches a network service"]["engines"]
    """),
    code("""
    parsl.clear()
    os.remove("answer.txt")
    """),
    md("""
    ## Exercises

    1. Write `good_double(factor, x)` so that it gives the same answer on both executors
       while `factor` changes in the notebook between calls.
    2. Change `answer` *while* a long engine task is reading it (make the task sleep
       first). Which value does it return on each executor?
    3. Why is `/tmp` a bad place for files that tasks on a cluster share?
    """),
]

# --------------------------------------------------------------------------- 06
NB06 = [
    md("""
    # 6. Bash apps

    A bash app's body **returns a command line**; the task runs it with `/bin/bash`. The
    future resolves to the exit code `0`, or raises if the command fails. Output goes to
    the files named by `stdout=` and `stderr=`.
    """),
    code("""
    import os

    import parsl_nb as parsl
    from parsl_nb import AUTO_LOGNAME, Config, File, bash_app
    from parsl_nb.errors import AppTimeout, BashExitFailure
    from parsl_nb.executors import ThreadPoolExecutor

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4)]))
    os.makedirs("out", exist_ok=True)
    """),
    md("""
    ## Commands and their output
    """),
    code("""
    @bash_app
    def greet(name, stdout=None, stderr=None):
        return f"echo hello {name}; echo 'a warning' >&2"

    fut = greet("world", stdout="out/greet.out", stderr="out/greet.err")
    assert fut.result() == 0
    print(open("out/greet.out").read(), open("out/greet.err").read())
    assert open("out/greet.out").read() == "hello world\\n"
    assert open("out/greet.err").read() == "a warning\\n"
    """),
    md("""
    `AUTO_LOGNAME` names the files after the task, inside the kernel's run directory:
    """),
    code("""
    fut = greet("again", stdout=AUTO_LOGNAME, stderr=AUTO_LOGNAME)
    fut.result()
    print(fut.stdout)
    assert open(fut.stdout).read() == "hello again\\n"
    """),
    md("""
    ## Exit codes

    A non-zero exit code fails the task with `BashExitFailure`, which carries the code.
    """),
    code("""
    @bash_app
    def check(path):
        return f"test -e {path}"

    assert check(".").result() == 0
    missing = check("no/such/file")
    try:
        missing.result()
    except BashExitFailure as e:
        print(e)
        assert e.exitcode == 1
    """),
    md("""
    ## Files in and out

    The same `inputs=`/`outputs=` as notebook 4: `{outputs[0]}` in the command is the file's
    path. If the command exits 0 but forgets to create an output, the task fails with
    `MissingOutputs`.
    """),
    code("""
    @bash_app
    def shout(inputs=(), outputs=()):
        return f"tr a-z A-Z < {inputs[0]} > {outputs[0]}"

    up = shout(inputs=[File("out/greet.out")], outputs=[File("out/shout.txt")])
    print(open(up.outputs[0].result().filepath).read())
    """),
    md("""
    ## Walltime

    `walltime=` (seconds) bounds a task. At the limit the command's whole process group is
    killed and the task fails with `AppTimeout`.
    """),
    code("""
    import time

    @bash_app
    def slow(walltime=None):
        return "sleep 30"

    t0 = time.perf_counter()
    late = slow(walltime=0.5)
    try:
        late.result()
    except AppTimeout as e:
        print(e)
    elapsed = time.perf_counter() - t0
    assert isinstance(late.exception(), AppTimeout)
    assert elapsed < 5, elapsed         # killed at 0.5 s, not after 30 s
    """),
    code("""
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Write a bash app that counts the lines of every file in `inputs=` with `wc -l` and
       writes the result to its `stdout`.
    2. What is the exit code of a command killed by `kill -9 $$`? Try it.
    3. A bash app's body is Python: it may compute the command. Build a command that
       depends on an argument (for example, add `-n` only when `numbered=True`).
    """),
]

# --------------------------------------------------------------------------- 07
NB07 = [
    md("""
    # 7. Errors, retries, dependency failures, memoization, checkpoints

    A workflow runs many tasks; some will fail. parsl_nb keeps every failure in the future
    of its task, tells dependants *why* they could not run, can try a task again, and can
    skip work it has already done.
    """),
    code("""
    import os
    import time

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.errors import DependencyError
    from parsl_nb.executors import ThreadPoolExecutor

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=4)], retries=2))
    """),
    md("""
    ## A failure, and everything downstream of it
    """),
    code("""
    @python_app
    def parse(text):
        return int(text)

    @python_app
    def double(x):
        return 2 * x

    first = parse("seven")
    second = double(first)
    third = double(second)
    try:
        third.result()
    except DependencyError as e:
        print(e)
        chain = e.chain()
    assert chain == [third.tid, second.tid, first.tid]
    assert isinstance(third.exception().__cause__, ValueError)     # the root cause travels along
    print([f.task_status() for f in (first, second, third)])
    """),
    md("""
    The failing task ended `failed` (after its retries); the two that depended on it never
    ran and ended `dep_fail`.

    ## Retries

    This kernel was loaded with `retries=2`: a failing task is tried up to 3 times. The app
    below fails on its first two tries (it counts them in a file) and succeeds on the third.
    """),
    code("""
    @python_app
    def flaky(path):
        import os
        tries = int(open(path).read()) if os.path.exists(path) else 0
        with open(path, "w") as f:
            f.write(str(tries + 1))
        if tries < 2:
            raise RuntimeError(f"try {tries} failed")
        return f"succeeded on try {tries}"

    if os.path.exists("tries.txt"):
        os.remove("tries.txt")
    ok = flaky("tries.txt")
    print(ok.result())
    print(ok.task_record.fail_history)
    assert ok.result() == "succeeded on try 2"
    assert ok.task_record.fail_count == 2
    assert first.task_record.fail_count == 3     # parse("seven") was tried 3 times too
    os.remove("tries.txt")
    """),
    md("""
    `Config(retry_handler=...)` decides how much each failure costs: return 0 for a failure
    worth retrying for free, or more than `retries` to give up at once.

    ## Memoization

    An app declared with `cache=True` remembers its results by function and arguments. A
    second identical call is served from memory: it ends `memo_done` without running.
    parsl_nb puts the function's *source* in the key, so editing the function in a cell
    and re-running is never served an old answer.
    """),
    code("""
    @python_app(cache=True)
    def expensive(x):
        import time
        time.sleep(1)
        return x ** 2

    t0 = time.perf_counter(); a = expensive(12).result(); first_time = time.perf_counter() - t0
    again = expensive(12)
    t0 = time.perf_counter(); b = again.result(); second_time = time.perf_counter() - t0
    print(f"first call {first_time:.2f} s, second call {second_time * 1000:.1f} ms:", again.task_status())
    assert a == b == 144
    assert again.task_status() == "memo_done"
    assert second_time < 0.5
    """),
    code("""
    @python_app(cache=True)
    def expensive(x):            # edited: same name, new body
        import time
        time.sleep(0.1)
        return x ** 3

    edited = expensive(12)
    assert edited.result() == 1728 and edited.task_status() == "exec_done"
    """),
    md("""
    ## Checkpoints

    Memoization lasts as long as the kernel. A checkpoint writes cached results to the run
    directory, so a later session (`Config(checkpoint_files=...)`) can start from them.
    With `Config(checkpoint_mode="task_exit")` one is written after every task; here we
    write one by hand.
    """),
    code("""
    checkpoint_dir = parsl.dfk().checkpoint()     # the results of every cached task so far
    print("checkpoint in", checkpoint_dir)
    parsl.clear()
    """),
    md("""
    A new kernel (think: tomorrow's session) loads that checkpoint. The first call of
    `expensive(12)` is then served from it, without running:
    """),
    code("""
    parsl.load(Config(checkpoint_files=[checkpoint_dir]))
    tomorrow = expensive(12)
    assert tomorrow.result() == 1728
    print(tomorrow.task_status())
    assert tomorrow.task_status() == "memo_done"
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Write a `retry_handler` that gives up at once on `ValueError` but retries
       `OSError` twice.
    2. `ignore_for_cache=["verbose"]`: make a cached app whose `verbose` argument does not
       change the key, and check with `task_status()`.
    3. In a fan-in of 10 tasks where 2 fail, what does the error of the fan-in task say?
    """),
]

# --------------------------------------------------------------------------- 08
NB08 = [
    md("""
    # 8. Workflows in cells: `%%parsl_app` and the line magics

    `%load_ext parsl_nb` adds magics that let a notebook *be* the workflow: each app is a
    cell, and line magics load, watch and stop the kernel. (See the Jupyter page of the
    docs for every option.)
    """),
    code("""
    %load_ext parsl_nb
    %parsl_load threads
    """),
    md("""
    ## Apps as cells

    The magic line is the signature; the cell is the body.
    """),
    code("""
    %%parsl_app make_text(n)
    import random
    random.seed(n)
    words = ["data", "flow", "task", "future", "kernel"]
    return " ".join(random.choice(words) for _ in range(200))
    """),
    code("""
    %%parsl_app --cache count_words(text)
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
    """),
    code("""
    %%parsl_app merge(*tables)
    total = {}
    for table in tables:
        for word, n in table.items():
            total[word] = total.get(word, 0) + n
    return total
    """),
    code("""
    %%parsl_app --bash report(path, stdout="report.txt")
    echo "words in {path}:"; wc -w < {path}
    """),
    md("""
    ## Running the workflow
    """),
    code("""
    texts = [make_text(i) for i in range(5)]
    merged = merge(*[count_words(t) for t in texts])
    result = merged.result()
    print(result)
    assert sum(result.values()) == 5 * 200
    """),
    code("""
    with open("words.txt", "w") as f:
        f.write(" ".join(texts[0].result().split()[:50]))
    assert report("words.txt").result() == 0
    print(open("report.txt").read())
    """),
    md("""
    ## Watching and steering
    """),
    code("""
    %parsl_status
    """),
    code("""
    %parsl_tasks --app count_words
    """),
    md("""
    Re-running a cached app with the same argument is served from memory:
    """),
    code("""
    again = count_words(texts[0])
    assert again.result() == count_words(texts[0]).result()
    assert again.task_status() == "memo_done"
    """),
    md("""
    `%parsl_cancel` stops tasks that have not started. Here a slow task blocks the queue
    of a one-thread kernel, so the tasks behind it can be cancelled:
    """),
    code("""
    %parsl_load parsl_nb.Config(executors=[parsl_nb.ThreadPoolExecutor(max_threads=1)])
    """),
    code("""
    %%parsl_app nap(s)
    import time
    time.sleep(s)
    return s
    """),
    code("""
    blocker = nap(1)
    queued = [nap(5) for _ in range(3)]
    %parsl_cancel nap
    blocker.result()
    assert [f.task_status() for f in queued] == ["cancelled"] * 3
    """),
    code("""
    %parsl_clear
    """),
    md("""
    ## Exercises

    1. Add a `%%parsl_app --join` cell that returns `[make_text(i) for i in range(n)]`, and
       use it in place of the list comprehension.
    2. Edit the body of `count_words` (for example, lower-case the words) and re-run it.
       Is the old cached result used?
    3. What does `%parsl_app --help` print? And a `%%parsl_app` line with a typo?
    """),
]

# --------------------------------------------------------------------------- 09
NB09 = [
    md("""
    # 9. Interactive HPC: providers, blocks, scaling

    On a cluster, workers come from the batch scheduler. A **provider** knows how to ask
    a scheduler for resources (`SlurmProvider`, `GridEngineProvider`, ... or
    `LocalProvider` for this machine); a **block** is one such request, a batch job that
    starts a group of engines; the kernel's **strategy** adds blocks when tasks queue up
    and retires idle ones. You keep working in the notebook while the cluster grows and
    shrinks underneath.

    This notebook runs on a local Slurm when one answers (`sinfo` succeeds), else on
    local engines, and says which. Every cell works the same on both; only the provider
    changes. (The online docs show it without outputs: run it where you have a cluster.)
    """),
    code("""
    %matplotlib inline
    import shutil
    import subprocess
    import time

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import EngineExecutor
    from parsl_nb.jupyter import control
    from parsl_nb.providers import LocalProvider, SlurmProvider


    def run(*cmd):
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout


    def slurm_answers():
        if shutil.which("sinfo") is None:
            return False
        try:
            return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


    def wait_for(condition, timeout=30):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True


    on_slurm = slurm_answers()
    print("Slurm answers:", on_slurm)
    if on_slurm:
        print(run("sinfo"))
    """),
    md("""
    ## Providers

    The provider is the only part that knows about the scheduler. A `SlurmProvider`
    takes the options you would write in a job script (`partition`, `walltime`,
    `nodes_per_block`, `account`, `qos`, ...) plus the block bounds `init_blocks`,
    `min_blocks` and `max_blocks`. Here the partition is `debug`, the local test
    Slurm's; on a real cluster use one that `sinfo` lists for you.
    """),
    code("""
    def make_provider(slurm, **blocks):
        if slurm:
            return SlurmProvider(partition="debug", nodes_per_block=1, walltime="00:05:00", **blocks)
        return LocalProvider(**blocks)


    def start_kernel(strategy, min_blocks, **config_options):
        # Load a kernel with one executor of engines; fall back to local engines if the
        # Slurm block does not start within 30 s (for example, when the partition is full).
        global on_slurm
        provider = make_provider(on_slurm, init_blocks=1, min_blocks=min_blocks, max_blocks=2)
        ex = EngineExecutor(label="engines", engines_per_node=2, provider=provider)
        parsl.load(Config(executors=[ex], strategy=strategy, **config_options))
        if wait_for(lambda: ex.blocks[0].state.value == "running" and ex.blocks[0].engines == 2):
            return ex
        assert on_slurm, "local engines did not start"
        print("the Slurm block did not start within 30 s; see `squeue`. Using local engines instead.")
        parsl.clear()
        on_slurm = False
        return start_kernel(strategy, min_blocks, **config_options)


    t0 = time.perf_counter()
    engines = start_kernel(strategy="none", min_blocks=0)   # "none": only you add or remove blocks
    where = "Slurm (partition debug)" if on_slurm else "local engines (no Slurm answered)"
    print(f"running on: {where}; first block's 2 engines ready in {time.perf_counter() - t0:.1f} s")
    print(type(engines.provider).__name__, "max_blocks =", engines.provider.max_blocks)
    """),
    md("""
    ## A block is a batch job

    The executor wrote a job script for the block and submitted it. On Slurm, the
    `#SBATCH` lines carry the provider's options, and the body starts the engines, which
    connect back to this notebook.
    """),
    code("""
    import glob

    script = sorted(glob.glob(f"{engines.provider.script_dir}/*.sh"))[0]
    header = [line for line in open(script) if line.startswith("#SBATCH")] if on_slurm else open(script).readlines()
    print(script.split("/")[-1])
    print("".join(header[:12]))
    """),
    code("""
    def show_jobs():
        # the scheduler's view of our blocks: squeue on Slurm, the block processes locally
        job_ids = [b.job_id for b in engines.blocks if b.active]
        if on_slurm:
            out = run("squeue", "--format=%.8i %.9P %.30j %.8T %.6D %R")
        else:
            out = run("ps", "-o", "sid,pid,args", "--sid", ",".join(job_ids)) if job_ids else ""
            out = "\\n".join(line[:100] for line in out.splitlines())
        print(out)
        return out

    queue = show_jobs()
    block = engines.blocks[0]
    print("block", block.block_id, "is job", block.job_id, "-", block.state.value, "with", block.engines, "engines")
    assert block.job_id in queue
    """),
    md("""
    ## Where do tasks run?

    Each task reports the node it ran on and the job it ran inside: on Slurm
    `SLURM_JOB_ID`, which the scheduler sets for every process of a job; locally the
    block's process session, which is what `LocalProvider` uses as a job id.
    """),
    code("""
    @python_app
    def where_am_i(i):
        import os
        import socket
        import time
        time.sleep(0.3)
        node = os.environ.get("SLURMD_NODENAME", socket.gethostname())
        return node, os.environ.get("SLURM_JOB_ID", str(os.getsid(0))), os.getpid()

    placed = [f.result() for f in [where_am_i(i) for i in range(4)]]
    for node, job, pid in sorted(set(placed)):
        print(f"node {node}, job {job}, engine pid {pid}")
    assert len({pid for _, _, pid in placed}) == 2                  # both engines of the block worked
    assert {job for _, job, _ in placed} == {block.job_id}          # inside the block's job
    """),
    md("""
    ## Scaling by hand

    `control.scale(+1)` (the `%parsl_scale +1` magic) asks the provider for one more
    block: one more batch job, two more engines. `-1` retires an idle block and cancels
    its job.
    """),
    code("""
    print(control.scale(+1))
    t0 = time.perf_counter()
    assert wait_for(lambda: len(engines.engines) == 4), "the second block did not start"
    print(f"4 engines after {time.perf_counter() - t0:.1f} s")
    queue = show_jobs()
    assert all(b.job_id in queue for b in engines.blocks)
    control.status()
    """),
    code("""
    placed = [f.result() for f in [where_am_i(i) for i in range(8)]]
    print(sorted({(node, job) for node, job, _ in placed}))
    assert len({pid for _, _, pid in placed}) >= 3                  # the new block's engines took tasks
    assert len({job for _, job, _ in placed}) == 2                  # tasks ran inside both jobs
    """),
    code("""
    print(control.scale(-1))
    assert wait_for(lambda: len(engines.engines) == 2), "the retired block's engines did not leave"
    retired = [b for b in engines.blocks if not b.active]
    assert len(retired) == 1 and retired[0].state.value == "cancelled"
    time.sleep(0.5)
    queue = show_jobs()
    print("job", retired[0].job_id, "cancelled; still listed:", retired[0].job_id in queue.split())
    parsl.clear()
    """),
    md("""
    ## Letting the kernel scale

    With `strategy="simple"` (the default) the kernel watches the queue: when more tasks
    wait than the engines can take, it submits blocks (up to `max_blocks`); a block idle
    for `max_idletime` seconds is retired (down to `min_blocks`). Here `max_idletime` is
    2 s so we can watch it happen; the default is 2 minutes.

    A burst of 30 short tasks arrives. While it drains, the cell samples what a dashboard
    would show: task counts, engines and active blocks.
    """),
    code("""
    engines = start_kernel(strategy="simple", min_blocks=1, max_idletime=2)

    @python_app
    def work(i):
        import time
        time.sleep(0.2)
        return i

    t0 = time.perf_counter()
    burst = [work(i) for i in range(30)]
    samples = []   # (seconds, tasks waiting, tasks done, engines, active blocks)

    def sample():
        counts = parsl.dfk().task_counts()
        waiting = sum(counts.get(s, 0) for s in ("pending", "launched", "running"))
        samples.append((time.perf_counter() - t0, waiting, counts.get("exec_done", 0),
                        len(engines.engines), sum(b.active for b in engines.blocks)))

    while not all(f.done() for f in burst):
        sample()
        time.sleep(0.1)
    assert sorted(f.result() for f in burst) == list(range(30))
    drained = time.perf_counter() - t0
    # now idle: keep watching until the strategy retires the extra block
    while sum(b.active for b in engines.blocks) > 1 and time.perf_counter() - t0 < drained + 15:
        sample()
        time.sleep(0.2)
    sample()
    changes = [(round(t, 1), blocks) for i, (t, *_, blocks) in enumerate(samples)
               if i == 0 or blocks != samples[i - 1][4]]
    print(f"burst drained in {drained:.1f} s; (seconds, active blocks) when the number changed:", changes)
    """),
    code("""
    import matplotlib.pyplot as plt

    ts = [s[0] for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.5), sharex=True)
    top.plot(ts, [s[1] for s in samples], label="waiting or running")
    top.plot(ts, [s[2] for s in samples], label="done")
    top.set_ylabel("tasks")
    top.legend()
    bottom.step(ts, [s[3] for s in samples], where="post", label="engines")
    bottom.step(ts, [s[4] for s in samples], where="post", label="active blocks")
    bottom.axvline(drained, color="grey", linestyle=":", label="burst done")
    bottom.set_xlabel("seconds since the burst arrived")
    bottom.legend()
    fig.suptitle(f"a burst of 30 tasks on {where}")
    plt.close(fig)

    assert max(s[4] for s in samples) == 2                          # the strategy added a block ...
    assert samples[-1][4] == 1                                      # ... and retired it once idle
    assert samples[-1][2] == 30
    fig
    """),
    md("""
    ## Watching the cluster

    The same views as on threads work here. `control.status()` lists blocks and engines;
    `control.tasks()` lists tasks; the timeline has one lane per engine, so you can see
    which engine (and block) ran what. A small map-reduce shows the DAG (`%parsl_dag`
    gives the live widget in JupyterLab).
    """),
    code("""
    control.status()
    """),
    code("""
    from parsl_nb.plot import dag, timeline

    @python_app
    def total(*parts):
        return sum(parts)

    parts = [work(i) for i in range(6)]
    answer = total(*parts)
    assert answer.result() == sum(range(6))
    dag([*parts, answer], title="six tasks, one reduction")
    """),
    code("""
    timeline(burst, title=f"the burst, one lane per engine ({where})")
    """),
    md("""
    ## Cleaning up

    Clearing the kernel cancels every job it submitted and stops every engine it started;
    so does restarting or shutting down the notebook's Python kernel.
    """),
    code("""
    jobs = [b.job_id for b in engines.blocks]
    parsl.clear()
    assert not any(b.active for b in engines.blocks)
    if on_slurm:
        assert wait_for(lambda: not set(run("squeue", "-h", "-t", "PD,R", "-o", "%i").split()) & set(jobs), 15)
        print("none of our jobs is pending or running:", jobs)
    """),
    md("""
    ## Exercises

    1. Submit 50 tasks of 1 s each and call `control.status()` in another cell while they
       run. How many blocks does the strategy start, and why not more?
    2. Set `max_blocks=4` and `engines_per_node=1`. Predict the number of jobs in
       `squeue` during the burst.
    3. Which option would you change to ask Slurm for a different partition or account?
       Where does it appear in the job script?
    """),
]

# --------------------------------------------------------------------------- 10
NB10 = [
    md("""
    # 10. What a run leaves behind, and reusing finished work

    Every `parsl.load()` makes a **run directory**: `runinfo/000`, `runinfo/001`, and so
    on. When the kernel is cleared, two things stay in it, and they do different jobs:

    - the **monitoring record**, `monitoring.db`, tells *what happened*: each task, its
      state changes with times, its tries and why they failed. It holds no results.
    - the **checkpoint**, `checkpoint/tasks.pkl`, keeps *results*: those of apps declared
      with `cache=True`. A later kernel can load it and skip work that is already done.

    Notebook 7 wrote a checkpoint by hand. Here we let the kernel write one after every
    task, read a finished run back, and then re-run the workflow the way you re-run a
    notebook after a restart.
    """),
    code("""
    %matplotlib inline
    import pathlib
    import sys
    from concurrent.futures import wait

    import parsl_nb as parsl
    from parsl_nb import Config, python_app
    from parsl_nb.executors import ThreadPoolExecutor


    def config(**more):
        # every kernel in this notebook: 2 threads, one retry, run directories under
        # runinfo/, and a checkpoint written as each cached task finishes
        return Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir="runinfo", retries=1,
                      checkpoint_mode="task_exit", **more)
    """),
    md("""
    ## A small workflow

    `measure` stands for slow work (an experiment, a simulation): it takes 0.3 s, and it
    fails for a negative index. `calibrate` corrects each measurement, `total` adds up the
    corrected values, and `spread` looks at the raw ones. Every app has `cache=True`, so
    its results may be kept and reused.
    """),
    code("""
    @python_app(cache=True)
    def measure(i):
        import time
        time.sleep(0.3)
        if i < 0:
            raise ValueError(f"there is no sample {i}")
        return i * i

    @python_app(cache=True)
    def calibrate(x):
        return x + 0.5

    @python_app(cache=True)
    def total(*values):
        return sum(values)

    @python_app(cache=True)
    def spread(*values):
        return max(values) - min(values)


    def run_workflow():
        # submit every task, wait until all are finished, return the futures by role
        measured = [measure(i) for i in range(4)]
        calibrated = [calibrate(m) for m in measured]
        futures = {"measure": measured, "calibrate": calibrated, "total": [total(*calibrated)],
                   "spread": [spread(*measured)], "broken": [measure(-1)]}
        wait([f for group in futures.values() for f in group])
        return futures


    def states(futures):
        # the final state of the tasks of each role
        return {role: sorted({f.task_status() for f in group}) for role, group in futures.items()}
    """),
    md("""
    Monitoring is on by default: there is nothing to ask for to get a record.
    `checkpoint_mode="task_exit"` adds each cached result to the checkpoint as soon as its
    task finishes.
    """),
    code("""
    parsl.load(config())
    first_dir = pathlib.Path(parsl.dfk().run_dir)
    first = run_workflow()
    print(first_dir.name, states(first))
    assert states(first) == {"measure": ["exec_done"], "calibrate": ["exec_done"], "total": ["exec_done"],
                             "spread": ["exec_done"], "broken": ["failed"]}
    assert first["total"][0].result() == 16.0
    broken = first["broken"][0]
    parsl.clear()       # the record is complete once the kernel is cleared
    """),
    md("""
    ## What is on disk

    The run directory now holds the record, the checkpoint and the kernel's log
    (`monitoring.db-wal` and `monitoring.db-shm`, if you see them, belong to the database).
    """),
    code("""
    for path in sorted(first_dir.rglob("*")):
        print(path.relative_to(first_dir.parent))
    assert (first_dir / "monitoring.db").is_file()
    assert (first_dir / "checkpoint" / "tasks.pkl").is_file()
    """),
    md("""
    ## Listing past runs

    `parsl.runs()` lists the runs under `runinfo`, oldest first. Reading them needs no
    kernel: there is none loaded now. The last run is the one we just made.
    """),
    code("""
    print(parsl.runs())
    run = parsl.runs()[-1]
    # run.name is the notebook's name under JupyterLab or Notebook ("python" when a tool runs it)
    print(run.name, "| finished:", run.finished, "|", run.counts())
    assert run.path.resolve() == first_dir.resolve()
    assert run.finished
    assert run.counts() == {"EXEC_DONE": 10, "FAILED": 1}
    """),
    md("""
    The same list in a terminal is `parsl-nb runs`, and `parsl-nb show RUN` sums one run
    up. In a notebook, `!parsl-nb runs` works when the command is on your `PATH`. The
    cells below start it through the kernel's own Python (`python -m parsl_nb`), which
    works everywhere; `listing = !...` keeps the printed lines.
    """),
    code("""
    listing = !{sys.executable} -m parsl_nb runs
    print(listing.n)
    assert any(line.startswith(first_dir.name) and run.run_id[:8] in line for line in listing)
    """),
    code("""
    !{sys.executable} -m parsl_nb show {run.path}
    """),
    md("""
    ## Reading the record in Python

    `run.summary()` gives one line per app: how many tasks, in which states, and how many
    tries. `measure(-1)` was tried twice (`retries=1`), so `measure` has 5 tasks but 6 tries.
    """),
    code("""
    for s in run.summary():
        print(f"{s.app:10} tasks {s.tasks}  tries {s.tries}  {s.states}")
    by_app = {s.app: s for s in run.summary()}
    assert by_app["measure"].states == {"EXEC_DONE": 4, "FAILED": 1}
    assert by_app["measure"].tries == 6
    """),
    md("""
    `run.tasks()` gives each task as a plain record. `depends` lists the tasks it waited
    for, and `args` is a short preview of its arguments, where a future shows as the task
    that made it. The results themselves are not there: the record says what happened,
    not what came out.
    """),
    code("""
    tasks = run.tasks()
    for t in tasks:
        print(f"{t.task_id:2} {t.app:10} {t.state:9} tries {t.tries}  depends {t.depends}  args {t.args}")
    total_task = next(t for t in tasks if t.app == "total")
    assert total_task.depends == tuple(f.tid for f in first["calibrate"])
    """),
    md("""
    With pandas installed, `run.dataframe()` gives the same table as a DataFrame, with the
    database's own columns:
    """),
    code("""
    import importlib.util

    if importlib.util.find_spec("pandas") is None:
        print("pandas is not installed (pip install pandas); run.tasks() above gives the same rows")
    else:
        df = run.dataframe("tasks")
        assert len(df) == 11
        display(df[["task_id", "app", "state", "tries", "fail_count", "depends"]])
    """),
    md("""
    ## One task's story

    `run.states(task_id)` lists every change of state of a task, with the time it
    happened. Here is the failing `measure(-1)`. It was handed to the executor
    (`LAUNCHED`) at once, but started (`RUNNING`) only 0.6 s later, when a thread came
    free; it failed, was tried again and failed for good. `run.tries(task_id)` keeps each
    try's error.
    """),
    code("""
    history = run.states(task_id=broken.tid)
    for change in history:
        print(f"{change.time - run.time_began:6.3f} s  try {change.try_id}  {change.state:15} {change.detail or ''}")
    times = [change.time for change in history]
    assert times == sorted(times)                                    # recorded in the order they happened
    final = next(t.state for t in tasks if t.task_id == broken.tid)
    assert history[-1].state == final == "FAILED"                    # ... and the last one is the final state
    first_try = {change.state: change.time for change in history if change.try_id == 0}
    assert first_try["RUNNING"] - first_try["LAUNCHED"] > 0.4        # it waited for one of the two threads
    for attempt in run.tries(task_id=broken.tid):
        print("try", attempt.try_id, attempt.state, attempt.exception)
    assert [y.state for y in run.tries(task_id=broken.tid)] == ["FAIL_RETRYABLE", "FAILED"]
    """),
    md("""
    ## Drawing a past run

    The timeline and the task graph accept a past run in place of a live kernel. The
    timeline has a lane per thread and a bar per try: the four measurements two by two,
    then the two failed tries of `measure(-1)` (hatched). The other tasks take so little
    time that their bars are too thin to see.
    """),
    code("""
    from parsl_nb import plot
    from parsl_nb.widgets import DagWidget

    assert len(run.tries()) == 12
    plot.timeline(run, title=f"run {run.path.name}, read from its record")
    """),
    md("""
    The graph widget shows each task in its last recorded state; click a task (in a live
    notebook) to see its history, arguments and errors.
    """),
    code("""
    DagWidget.from_run(run)
    """),
    md("""
    ## Re-running after a restart

    After a kernel restart everything in memory is gone, and a re-run of the notebook
    would redo all the work. Loading the checkpoint prevents that: `get_last_checkpoint()`
    finds the newest checkpoint under `runinfo`, and `checkpoint_files=` loads it into the
    new kernel.

    We clear the old kernel and load a new one, as after a restart, then call the same
    apps with the same arguments.
    """),
    code("""
    from parsl_nb.utils import get_last_checkpoint

    print(get_last_checkpoint())
    assert get_last_checkpoint() == [str(first_dir.resolve() / "checkpoint")]

    parsl.load(config(checkpoint_files=get_last_checkpoint()))
    second_dir = pathlib.Path(parsl.dfk().run_dir)
    second = run_workflow()
    print(states(second))
    assert states(second) == {"measure": ["memo_done"], "calibrate": ["memo_done"], "total": ["memo_done"],
                              "spread": ["memo_done"], "broken": ["failed"]}
    assert second["total"][0].result() == 16.0
    parsl.clear()
    """),
    md("""
    Ten tasks ended `memo_done`: their results came from the checkpoint. Did they really
    not run? The new run's record answers: a task that ran has at least one try, and only
    `measure(-1)` has any. It ran, and failed, again, because **failures are never
    checkpointed**: only results are kept.
    """),
    code("""
    reuse = parsl.runs()[-1]
    assert reuse.path.resolve() == second_dir.resolve()
    print(reuse.counts())
    ran = sorted({y.task_id for y in reuse.tries()})
    print("tasks that ran:", ran)
    assert ran == [second["broken"][0].tid]
    """),
    md("""
    ## Editing one function

    A cached result is found again by a key made of the app's name, its **source text**
    and its **argument values** (a future counts by the value it resolved to). So a result
    is reused when the function's source and the arguments are unchanged.

    Suppose the calibration was wrong. We edit `calibrate`, restart and run everything
    again. Before running the next cells, predict which tasks run: `calibrate` has new
    source, so its tasks run; `total` receives new values, so it runs too; `measure` and
    `spread` have the same source and arguments, so they are served from the checkpoint.
    """),
    code("""
    @python_app(cache=True)
    def calibrate(x):            # edited: a new body
        return 2 * x + 0.5
    """),
    md("""
    The second run copied the results it was served into its own checkpoint, so the
    newest checkpoint holds everything again.
    """),
    code("""
    assert get_last_checkpoint() == [str(second_dir.resolve() / "checkpoint")]
    parsl.load(config(checkpoint_files=get_last_checkpoint()))
    third = run_workflow()
    print(states(third))
    assert states(third) == {"measure": ["memo_done"], "calibrate": ["exec_done"], "total": ["exec_done"],
                             "spread": ["memo_done"], "broken": ["failed"]}
    assert third["total"][0].result() == 2 * 14 + 4 * 0.5
    assert third["spread"][0].result() == 9
    """),
    md("""
    The kernel is still loaded, so its record may lag a second behind.
    `parsl.dfk().events.flush()` waits until everything so far is written; then the record
    of the live run agrees: only the edited app, its dependant and the failure ran.
    """),
    code("""
    parsl.dfk().events.flush()
    live = parsl.runs()[-1]
    assert not live.finished                    # still going: no end time yet
    ran = {t.app for t in live.tasks() if t.tries > 0}
    print("apps that ran:", sorted(ran), "|", live.counts())
    assert ran == {"calibrate", "total", "measure"}
    assert {t.task_id for t in live.tasks(app="measure") if t.tries > 0} == {third["broken"][0].tid}
    """),
    md("""
    In the task graph, the tasks served from the checkpoint (`memo_done`) are a lighter
    green than the ones that ran (`exec_done`):
    """),
    code("""
    plot.dag(title="after editing calibrate")
    """),
    md("""
    ## The rule

    - A result is reused when the app's source and its arguments are unchanged. Moving a
      function to another cell does not matter; changing its body does.
    - An edit runs that app again, and the tasks that receive its new values. Tasks
      upstream of it, and in other branches, are served as before.
    - Failures are never checkpointed: a task that failed runs again next time.
    - The key sees neither the helper functions an app calls nor the contents of a file
      it reads (a `File` counts by its path). After changing those, run once without
      `checkpoint_files`.

    To make a notebook restart-proof, load the kernel in its first cell with
    `checkpoint_mode="task_exit"` and `checkpoint_files=get_all_checkpoints()` (or
    `get_last_checkpoint()`), and give the apps worth keeping `cache=True`.
    """),
    code("""
    parsl.clear()
    """),
    md("""
    ## Exercises

    1. Edit `calibrate` so that it computes the same values in a different way (for
       example `return 0.5 + x`), and run the workflow again with the last checkpoint.
       Which tasks run now? Why does `total` not?
    2. Change `measure(-1)` to `measure(4)` in `run_workflow`. What happens on the first
       re-run, and on the one after it?
    3. Open the first run's `monitoring.db` (`first_dir / "monitoring.db"`) with `sqlite3`
       and list its tries, the longest first.
    """),
]

ALL = {
    "01_apps_and_futures.ipynb": NB01,
    "02_dependencies_and_the_dag.ipynb": NB02,
    "03_execution.ipynb": NB03,
    "04_communication.ipynb": NB04,
    "05_environment.ipynb": NB05,
    "06_bash_apps.ipynb": NB06,
    "07_errors_retries_memo.ipynb": NB07,
    "08_magics.ipynb": NB08,
    "09_interactive_hpc.ipynb": NB09,
    "10_monitoring_and_reuse.ipynb": NB10,
}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(ALL)
    for name in chosen:
        write(name, ALL[name])
        print("wrote", name)
