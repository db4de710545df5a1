"""``exp``, ``log1p`` and ``log`` in a form LLVM vectorises, for the fused pass.

numba calls the C library's scalar ``exp`` and ``log1p``, one row at a time;
these are the same functions written as arithmetic only (range reduction,
polynomial, scaling by a power of two built from its bits), so that a loop over
a group of rows runs four or eight of them per instruction. They are
fdlibm's algorithms (``e_exp.c``, ``e_log.c``, the reference the C libraries
descend from) with its coefficients, accurate to about one unit in the last
place over the ranges the losses use:

- :func:`exp_nonpositive`: ``exp(x)`` for ``x <= 0`` (sigmoid and softmax take
  exp only of ``-|raw|`` and ``raw - max``);
- :func:`log1p_unit`: ``log(1 + s)`` for ``s`` in [0, 1], without rounding
  ``1 + s`` (the softplus of the binary loss);
- :func:`log_normal`: ``log(u)`` for a positive normal ``u`` (the softmax's sum).

NaN stays NaN and infinities give the limits, so that a diverging step is still
seen as one. The functions are compiled without fast-math: reassociation would
undo the compensated sums the accuracy rests on. Loops that call them need
``error_model="numpy"``, else numba's division-by-zero check keeps them scalar.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
# fdlibm's e_exp.c: exp(r) on [-ln2/2, ln2/2] from a rational in r**2.
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
# fdlibm's e_log.c: log(1 + f) from a polynomial in s**2, s = f / (2 + f).
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2 = 1.4142135623730951
# Below this exp(x) rounds to zero (the smallest subnormal is 4.9e-324).
_EXP_UNDERFLOW = -745.2
_MANTISSA = (1 << 52) - 1
_EXPONENT_BIAS = 1023

_compiled = njit(error_model="numpy")


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE 754 bits are the int64 ``bits``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_float(typingctx, value):
    """The IEEE 754 bits of the float64 ``value``, as an int64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@_compiled
def _power_of_two(k):
    """``2.0 ** k`` for integer-valued ``k`` in [-1100, 0], as two normal factors."""
    n = np.int64(k)
    half = n >> 1
    low = _float_from_bits((half + _EXPONENT_BIAS) << 52)
    return low * _float_from_bits((n - half + _EXPONENT_BIAS) << 52)


@_compiled
def exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0``; NaN gives NaN and ``-inf`` gives 0."""
    k = np.floor(x * _INV_LN2 + 0.5)
    k = k if k > -1100.0 else -1100.0  # NaN and -inf too: a safe integer
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return 0.0 if x < _EXP_UNDERFLOW else y * _power_of_two(k)


@_compiled
def _log1p_reduced(f, k):
    """``log(1 + f) + k log(2)`` for ``f`` in [sqrt(2)/2 - 1, sqrt(2) - 1]."""
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    even = w * (_LG2 + w * (_LG4 + w * _LG6))
    odd = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    half_square = 0.5 * f * f
    return k * _LN2_HI - (
        (half_square - (s * (half_square + (odd + even)) + k * _LN2_LO)) - f
    )


@_compiled
def log1p_unit(s):
    """``log(1 + s)`` for ``s`` in [0, 1]; NaN gives NaN."""
    # Above sqrt(2) - 1, log(1 + s) = log((1 + s) / 2) + log(2), and
    # (1 + s) / 2 - 1 = (s - 1) / 2 is exact there.
    big = s > _SQRT2 - 1.0
    return _log1p_reduced((s - 1.0) * 0.5 if big else s, 1.0 if big else 0.0)


@_compiled
def log_normal(u):
    """``log(u)`` for a positive normal ``u``; NaN gives NaN, ``inf`` gives inf."""
    bits = _bits_of_float(u)
    exponent = (bits >> 52) - _EXPONENT_BIAS
    mantissa = _float_from_bits((bits & _MANTISSA) | (_EXPONENT_BIAS << 52))
    big = mantissa > _SQRT2
    f = mantissa * 0.5 - 1.0 if big else mantissa - 1.0
    value = _log1p_reduced(f, np.float64(exponent + 1 if big else exponent))
    return value if u < np.inf else u
