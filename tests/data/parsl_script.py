"""An ordinary Parsl script; only the first import differs from Parsl."""

import parsl_nb as parsl
from parsl_nb import File, bash_app, join_app, python_app
from parsl_nb.app.errors import BashExitFailure
from parsl_nb.config import Config
from parsl_nb.executors import ThreadPoolExecutor

config = Config(
    executors=[ThreadPoolExecutor(max_threads=4, label="local_threads")],
    retries=1,
)


@python_app
def double(x):
    return x * 2


@python_app
def square(x):
    return x * x


@python_app
def total(inputs=[]):
    return sum(inputs)


@bash_app
def write(message, outputs=[], stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME):
    return "echo '{}' > {}".format(message, outputs[0])  # noqa: UP032 (as Parsl scripts write it)


@python_app
def read(inputs=[]):
    with open(inputs[0].filepath) as f:
        return f.read().strip()


@bash_app
def fail(code):
    return "exit {}".format(code)  # noqa: UP032


@join_app
def fan_out(n):
    return [double(i) for i in range(n)]


@python_app
def divide(a, b):
    return a / b


@python_app
def after(x):
    return x


if __name__ == "__main__":
    with parsl.load(config):
        print("double:", double(21).result())
        print("sum of squares:", total(inputs=[square(i) for i in range(10)]).result())
        written = write("hello parsl", outputs=[File("hello.txt")])
        print("file:", read(inputs=[written.outputs[0]]).result())
        print("join:", fan_out(4).result())
        try:
            fail(3).result()
        except BashExitFailure as e:
            print("exit code:", e.exitcode)
        bad = after(divide(1, 0))
        try:
            bad.result()
        except Exception as e:
            print("dependency failure:", type(e).__name__)
        print("states:", written.task_status(), bad.task_status())
        parsl.dfk().wait_for_current_tasks()
    print("done")
