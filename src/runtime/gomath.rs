//! Go's `math.Pow` and the `Exp` and `Log` it calls, bit for bit, so that `**` gives Expr's
//! answers to the last digit. `Exp` and `Log` are the amd64 versions (with FMA, which every
//! x86-64 CPU of the last decade has): Expr's reference answers come from such a machine.

/// `x ** y` for an infinite `y`, or one too large for an int64 (Go treats both alike): 1 for
/// `x == -1`, 0 when `|x| < 1` and `y > 0` agree, else +Inf.
fn huge_power(x: f64, y: f64) -> f64 {
    if x == -1.0 {
        1.0
    } else if (x.abs() < 1.0) == (y > 0.0) {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Go's `math.Pow`, step for step: its integer powers by repeated squaring and its ±0.5
/// shortcuts differ in the last digit from a correctly rounded `powf`.
pub fn pow(x: f64, y: f64) -> f64 {
    let odd_int = |v: f64| v.abs() < (1u64 << 53) as f64 && v.fract() == 0.0 && (v as i64) & 1 == 1;
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return match (y < 0.0, odd_int(y)) {
            (true, true) => f64::INFINITY.copysign(x),
            (true, false) => f64::INFINITY,
            (false, true) => x,
            (false, false) => 0.0,
        };
    }
    if y.is_infinite() {
        return huge_power(x, y);
    }
    if x.is_infinite() {
        if x < 0.0 {
            return pow(1.0 / x, -y);
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let (mut yi, mut yf) = (y.abs().trunc(), y.abs().fract());
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 9.223372036854776e+18 {
        return huge_power(x, y);
    }
    let mut a1 = 1.0;
    let mut ae: i64 = 0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = go_exp(yf * go_log(x));
    }
    let (mut x1, mut xe) = frexp(x);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Go's `normalize`: a subnormal `x` scaled into the normal range, and the power of two taken.
fn normalize(x: f64) -> (f64, i64) {
    if x.abs() < f64::MIN_POSITIVE {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    }
}

/// Go's `math.Frexp`: `x = frac × 2^exp` with `frac` in [½, 1).
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (x, exp) = normalize(x);
    let bits = x.to_bits();
    let exp = exp + ((bits >> 52) & 0x7ff) as i64 - 1022;
    (f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52)), exp)
}

/// Go's `math.Ldexp`: `frac × 2^exp`, rounding once into the subnormals.
fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, e) = normalize(frac);
    let bits = frac.to_bits();
    let mut exp = exp.saturating_add(e) + ((bits >> 52) & 0x7ff) as i64 - 1023;
    if exp < -1075 {
        return 0.0f64.copysign(frac);
    }
    if exp > 1023 {
        return f64::INFINITY.copysign(frac);
    }
    let mut m = 1.0;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    m * f64::from_bits((bits & !(0x7ff << 52)) | (((exp + 1023) as u64) << 52))
}

/// Go's `math.Exp` on amd64 with FMA (its assembly, after Shibata's SLEEF): the machine
/// Expr's answers are taken from.
fn go_exp(x: f64) -> f64 {
    const LN2U: f64 = 0.693147180559663;
    const LN2L: f64 = 2.8235290563031577e-13;
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    if x > 709.782712893384 {
        return f64::INFINITY;
    }
    // CVTSD2SL: round to nearest even; out of range gives i32::MIN.
    let t = std::f64::consts::LOG2_E * x;
    let k = if (-2_147_483_648.0..2_147_483_647.5).contains(&t) {
        t.round_ties_even() as i32
    } else {
        i32::MIN
    };
    let kf = f64::from(k);
    let mut r = (-kf).mul_add(LN2U, x);
    r = (-kf).mul_add(LN2L, r);
    r *= 0.0625;
    let mut p = 2.48015873015873e-05_f64;
    for c in [
        0.0001984126984126984,
        0.001388888888888889,
        0.008333333333333333,
        0.041666666666666664,
        0.16666666666666666,
        0.5,
        1.0,
    ] {
        p = p.mul_add(r, c);
    }
    let mut y = r * p;
    for _ in 0..3 {
        y *= y + 2.0;
    }
    y = y.mul_add(y + 2.0, 1.0);
    let e = i64::from(k) + 0x3ff;
    if e >= 0x7ff {
        return f64::INFINITY;
    }
    if e > 0 {
        return y * f64::from_bits((e as u64) << 52);
    }
    if e < -52 {
        return 0.0;
    }
    y * f64::from_bits(((e + 0x3fe) as u64) << 52) * f64::from_bits(1 << 52)
}

/// Go's `math.Log` on amd64 (its assembly): FreeBSD's algorithm, without normalising a
/// subnormal `x` first.
fn go_log(x: f64) -> f64 {
    const LN2HI: f64 = 0.6931471803691238;
    const LN2LO: f64 = 1.9082149292705877e-10;
    const L: [f64; 7] = [
        0.6666666666666735,
        0.3999999999940942,
        0.2857142874366239,
        0.22222198432149784,
        0.1818357216161805,
        0.15313837699209373,
        0.14798198605116586,
    ];
    let bits = x.to_bits();
    if bits & !(1 << 63) == 0 {
        return f64::NEG_INFINITY;
    }
    if (bits as i64) < 0 {
        return f64::NAN;
    }
    if bits >= 0x7ff0_0000_0000_0000 {
        return x;
    }
    let mut f1 = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
    let mut k = ((bits >> 52) & 0x7ff) as f64 - 1022.0;
    if f1 <= std::f64::consts::FRAC_1_SQRT_2 {
        k -= 1.0;
        f1 *= 2.0;
    }
    let f = f1 - 1.0;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (((L[6] * s4 + L[4]) * s4 + L[2]) * s4 + L[0]);
    let t2 = s4 * ((L[5] * s4 + L[3]) * s4 + L[1]);
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2HI - ((hfsq - (s * (hfsq + r) + k * LN2LO)) - f)
}
