import sys

import broken


class Noisy:
    def __del__(self):
        print("a Noisy object is freed")


x = Noisy()
items = (x,)
print("references to x:", sys.getrefcount(x) - 1)  # getrefcount's own argument is one
broken.first(items)
print("after one call:", sys.getrefcount(x) - 1)
broken.first(items)
print("after two calls; x and items still point to it:")
print(x)
print("the end of the script")
