/* repr_scalar.c - Python's repr of floats and bytes (see repr_scalar.h).
 *
 * Floats: Python prints the shortest decimal string that reads back as the
 * same double (David Gay's mode 0). The C library's %.*e rounds correctly
 * at any precision, so the shortest correctly rounded string that strtod
 * reads back is Python's, with one exception handled below: at a power of
 * two the gap to the next double below is half the gap above, so the
 * nearest decimal of a given length can miss while the next one up hits.
 *
 * The C library formats and parses numbers in the current locale, whose
 * decimal point may be ','. Digits are therefore taken from snprintf's
 * output by skipping what is not a digit, and candidates are handed to
 * strtod as an integer mantissa with an exponent, which has no decimal
 * point to misread. */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/obj/repr_scalar.h"

#define MAX_SIG 17 /* always enough for a double to read back */

/* |x| = 0.digits * 10^decpt, digits without leading or trailing zeros. */
typedef struct decimal {
    char digits[MAX_SIG + 2];
    int len;
    int decpt;
} decimal;

/* The correctly rounded sig-digit decimal of ax (finite, > 0). */
static void round_to(double ax, int sig, decimal *d)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", sig - 1, ax);
    const char *e = strchr(tmp, 'e');
    d->len = 0;
    for (const char *s = tmp; s < e && d->len < MAX_SIG; s++)
        if (*s >= '0' && *s <= '9') d->digits[d->len++] = *s;
    d->digits[d->len] = '\0';
    d->decpt = atoi(e + 1) + 1;
}

/* The next decimal up with the same number of digits (carrying into a new
 * leading digit when they are all nines). */
static void next_up(decimal *d)
{
    int i = d->len - 1;
    while (i >= 0 && d->digits[i] == '9')
        d->digits[i--] = '0';
    if (i >= 0) {
        d->digits[i]++;
    } else {
        memmove(d->digits + 1, d->digits, (size_t)d->len + 1);
        d->digits[0] = '1';
        d->len++;
        d->decpt++;
    }
}

static int reads_back(const decimal *d, double ax)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*se%d", d->len, d->digits, d->decpt - d->len);
    return strtod(tmp, NULL) == ax;
}

/* A zero significand: the next double down is closer than the next up. */
static int is_power_of_two(double ax)
{
    uint64_t bits;
    memcpy(&bits, &ax, sizeof bits);
    return (bits & ((UINT64_C(1) << 52) - 1)) == 0;
}

static void shortest(double ax, decimal *d)
{
    int power_of_two = is_power_of_two(ax);
    for (int sig = 1; sig <= MAX_SIG; sig++) {
        round_to(ax, sig, d);
        if (reads_back(d, ax)) break;
        if (power_of_two && sig < MAX_SIG) {
            decimal up = *d;
            next_up(&up);
            if (reads_back(&up, ax)) {
                *d = up;
                break;
            }
        }
    }
    while (d->len > 1 && d->digits[d->len - 1] == '0')
        d->digits[--d->len] = '\0';
}

static void put_str(mp_buf *b, const char *s)
{
    mp_buf_put(b, s, strlen(s));
}

static void put_zeros(mp_buf *b, int n)
{
    for (int i = 0; i < n; i++)
        mp_buf_u8(b, '0');
}

/* The sign bit itself: -0.0 and negative NaNs count. (The classification
 * macros are avoided: MinGW's trip -Wfloat-conversion.) */
static int sign_bit(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (int)(bits >> 63);
}

void mp_repr_double(mp_buf *b, double x)
{
    if (x != x) { /* NaN: Python prints it without a sign */
        put_str(b, "nan");
        return;
    }
    if (sign_bit(x)) mp_buf_u8(b, '-');
    double ax = sign_bit(x) ? -x : x;
    if (ax > DBL_MAX) {
        put_str(b, "inf");
        return;
    }
    if (ax == 0) {
        put_str(b, "0.0");
        return;
    }
    decimal d;
    shortest(ax, &d);
    int exp10 = d.decpt - 1;
    if (exp10 < -4 || exp10 >= 16) {
        /* 1e-05, 1.5e+16: Python's float_repr_style 'short' thresholds. */
        mp_buf_u8(b, (unsigned char)d.digits[0]);
        if (d.len > 1) {
            mp_buf_u8(b, '.');
            mp_buf_put(b, d.digits + 1, (size_t)d.len - 1);
        }
        char e[16];
        snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        put_str(b, e);
    } else if (d.decpt <= 0) {
        put_str(b, "0.");
        put_zeros(b, -d.decpt);
        mp_buf_put(b, d.digits, (size_t)d.len);
    } else if (d.decpt >= d.len) {
        mp_buf_put(b, d.digits, (size_t)d.len);
        put_zeros(b, d.decpt - d.len);
        put_str(b, ".0");
    } else {
        mp_buf_put(b, d.digits, (size_t)d.decpt);
        mp_buf_u8(b, '.');
        mp_buf_put(b, d.digits + d.decpt, (size_t)(d.len - d.decpt));
    }
}

void mp_repr_bytes(mp_buf *b, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;
    int has_single = n && memchr(s, '\'', n) != NULL;
    int has_double = n && memchr(s, '"', n) != NULL;
    unsigned char quote = has_single && !has_double ? '"' : '\'';
    mp_buf_u8(b, 'b');
    mp_buf_u8(b, quote);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == quote || c == '\\') {
            mp_buf_u8(b, '\\');
            mp_buf_u8(b, c);
        } else if (c == '\t') {
            put_str(b, "\\t");
        } else if (c == '\n') {
            put_str(b, "\\n");
        } else if (c == '\r') {
            put_str(b, "\\r");
        } else if (c < 0x20 || c >= 0x7f) {
            unsigned char e[4] = {'\\', 'x', (unsigned char)hex[c >> 4],
                                  (unsigned char)hex[c & 15]};
            mp_buf_put(b, e, 4);
        } else {
            mp_buf_u8(b, c);
        }
    }
    mp_buf_u8(b, quote);
}

void mp_repr_int(mp_buf *b, long long x)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", x);
    put_str(b, tmp);
}

void mp_repr_uint(mp_buf *b, unsigned long long x)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", x);
    put_str(b, tmp);
}
