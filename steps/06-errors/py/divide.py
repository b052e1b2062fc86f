import errors

print(errors.divide(7, 2))
print(errors.divide(-7, 2))
errors.divide(1, 0)
