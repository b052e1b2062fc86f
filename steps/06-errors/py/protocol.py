# ANCHOR: all
import broken


# One function per call site: CPython specialises each call site of the bytecode on its own.
def forget_varargs(fail):
    return broken.forget_error_varargs(fail)


def forget(fail):
    return broken.forget_error(fail)


def stray_varargs(fail):
    return broken.stray_error_varargs(fail)


def stray(fail):
    return broken.stray_error(fail)


def warm_up(call):
    for _ in range(1000):  # calls that keep the protocol
        call(False)


def null_without_exception(call):
    try:
        call(True)
    except SystemError as e:
        print(f"  SystemError: {e}")


def result_with_exception(call):
    try:
        result = call(True)
    except SystemError as e:
        print(f"  SystemError: {e}")
        print(f"  caused by {e.__cause__!r}")
        return
    try:
        magnitude = abs(-3)  # an unrelated line, which has not run before
    except SystemError as e:
        print(f"  returned {result!r}, then abs(-3) raised SystemError: {e}")
        print(f"  caused by {e.__cause__!r}")
    else:
        print(f"  returned {result!r}, then abs(-3) returned {magnitude}")


for call, check in [(forget_varargs, null_without_exception), (forget, null_without_exception),
                    (stray_varargs, result_with_exception), (stray, result_with_exception)]:
    print(f"{call.__name__}(True), first call:")
    check(call)
    warm_up(call)
    print(f"{call.__name__}(True), after 1000 good calls:")
    check(call)
# ANCHOR_END: all
