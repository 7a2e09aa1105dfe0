#!/usr/bin/env python3
"""Independent verifier of a lottery record, written from docs/lottery.md
alone (standard library only, slow pure-Python curve arithmetic).

Usage: python3 lottery/tools/verify_record.py RECORD.json [PINNED_PUBLIC_KEY_HEX]
Prints the intermediate values and "OK ..." or raises on the first failure.
It exists to show the specification is complete; the Rust crate is the
reference implementation.
"""
import json, hashlib, sys
# --- ed25519 arithmetic (RFC 8032 reference style) ---
p = 2**255 - 19
q = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p-2, p) % p
I = pow(2, (p-1)//4, p)
def inv(x): return pow(x, p-2, p)
def add(P, Q):
    x1,y1,z1,t1 = P; x2,y2,z2,t2 = Q
    A=(y1-x1)*(y2-x2)%p; B=(y1+x1)*(y2+x2)%p; C=t1*2*d*t2%p; D=z1*2*z2%p
    E=B-A; F=D-C; G=D+C; H=B+A
    return (E*F%p, G*H%p, F*G%p, E*H%p)
def mul(s, P):
    Q = (0,1,1,0)
    while s > 0:
        if s & 1: Q = add(Q, P)
        P = add(P, P); s >>= 1
    return Q
def enc(P):
    x,y,z,t = P; zi = inv(z); x = x*zi%p; y = y*zi%p
    return int.to_bytes(y | ((x & 1) << 255), 32, 'little')
def recover_x(y, sign):
    if y >= p: return None
    x2 = (y*y-1) * inv(d*y*y+1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (p+3)//8, p)
    if (x*x - x2) % p != 0: x = x*I % p
    if (x*x - x2) % p != 0: return None
    if (x & 1) != sign: x = p - x
    return x
def dec(s):
    y = int.from_bytes(s, 'little'); sign = y >> 255; y &= (1 << 255) - 1
    x = recover_x(y, sign)
    if x is None: return None
    return (x, y, 1, x*y%p)
gy = 4*inv(5)%p; G = (recover_x(gy,0), gy, 1, recover_x(gy,0)*gy%p)
def eq(P,Q): return enc(P)==enc(Q)
sha512 = lambda b: hashlib.sha512(b).digest()
sha256 = lambda b: hashlib.sha256(b).digest()
def ed_verify(pk, msg, sig):
    A = dec(pk); R = dec(sig[:32]); s = int.from_bytes(sig[32:], 'little')
    if A is None or R is None or s >= q: return False
    h = int.from_bytes(sha512(sig[:32]+pk+msg), 'little') % q
    return eq(mul(s, G), add(R, mul(h, A)))
# --- ECVRF-EDWARDS25519-SHA512-TAI ---
def e2c(salt, alpha):
    for ctr in range(256):
        h = sha512(b'\x03\x01'+salt+alpha+bytes([ctr,0]))[:32]
        P = dec(h)
        if P is not None: return mul(8, P)
def vrf_verify(pk, alpha, pi):
    Y = dec(pk); assert Y is not None and not eq(mul(8,Y),(0,1,1,0))
    Gm = dec(pi[:32]); c = int.from_bytes(pi[32:48],'little'); s = int.from_bytes(pi[48:],'little')
    assert Gm is not None and s < q
    H = e2c(pk, alpha)
    negc = q - c
    U = add(mul(s,G), mul(negc, Y)); V = add(mul(s,H), mul(negc, Gm))
    c2 = sha512(b'\x03\x02'+pk+enc(H)+enc(Gm)+enc(U)+enc(V)+b'\x00')[:16]
    assert int.from_bytes(c2,'little') == c, "vrf challenge"
    return sha512(b'\x03\x03'+enc(mul(8,Gm))+b'\x00')
# --- lottery ---
def s_(x): b = x.encode(); return len(b).to_bytes(4,'big')+b
def ann_bytes(dfn):
    out = b'lottery-announce-v1' + s_(dfn['lottery_id']) + s_(dfn['room_id'])
    out += bytes([{'comment':1,'like':2}[dfn['kind']]])
    out += b'\x00' if dfn['keyword'] is None else b'\x01'+s_(dfn['keyword'])
    out += dfn['window_start_ms'].to_bytes(8,'big') + dfn['window_end_ms'].to_bytes(8,'big')
    out += dfn['winners'].to_bytes(4,'big') + s_(dfn['prize']) + s_(dfn['rules'])
    b = dfn.get('beacon')
    if b is not None:
        out += b'\x01' + bytes.fromhex(b['chain_hash']) + bytes.fromhex(b['public_key'])
        out += b['genesis_s'].to_bytes(8,'big') + b['period_s'].to_bytes(4,'big') + b['round'].to_bytes(8,'big')
    return out
def first_round_after(genesis_s, period_s, t_ms):
    if t_ms < genesis_s*1000: return 1
    return (t_ms - genesis_s*1000)//(period_s*1000) + 2
def mth(leaves):
    n = len(leaves)
    if n == 0: return sha256(b'')
    if n == 1: return sha256(b'\x00'+leaves[0])
    k = 1
    while k*2 < n: k *= 2
    return sha256(b'\x01'+mth(leaves[:k])+mth(leaves[k:]))
def select(beta, n, K):
    words = []
    ctr = 0
    def nxt():
        nonlocal ctr
        if not words:
            blk = sha256(b'lottery-draw-v1'+beta+ctr.to_bytes(8,'big')); ctr += 1
            words.extend(int.from_bytes(blk[i:i+8],'big') for i in range(0,32,8))
        return words.pop(0)
    lst = list(range(n)); out = []
    for j in range(min(K,n)):
        m = n-j; lim = (2**64//m)*m
        while True:
            v = nxt()
            if v < lim: break
        r = v % m
        lst[j], lst[j+r] = lst[j+r], lst[j]; out.append(lst[j])
    return out
def code(beta, uid):
    h = int.from_bytes(sha256(b'lottery-redeem-v1'+beta+uid.encode())[:8],'big')
    A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    return ''.join(A[(h >> (59-5*i)) & 31] for i in range(10))
rec = json.load(open(sys.argv[1], encoding="utf-8"))
a = rec['announcement']; dfn = a['definition']; pk = bytes.fromhex(a['public_key'])
ab = ann_bytes(dfn); ah = sha256(ab)
print('announcement bytes', ab.hex()); print('announcement hash', ah.hex())
assert ed_verify(pk, ab, bytes.fromhex(a['signature'])), 'sig'
assert ah.hex() == rec['announcement_hash']
if len(sys.argv) > 2: assert a['public_key'] == sys.argv[2], 'not the pinned key'
assert rec['version'] == 1
o = rec['outcome']
if o['state'] == 'abnormal':
    msg = b'lottery-abnormal-v1' + ah + s_(o['reason'])
    assert ed_verify(pk, msg, bytes.fromhex(o['signature'])), 'abnormal signature'
    print('OK abnormal:', o['reason']); sys.exit(0)
assert o['state'] == 'drawn'
parts = o['commitment']['participants']
assert parts == sorted(set(parts), key=lambda x: x.encode()) and all(parts), 'not canonical'
root = mth([x.encode() for x in parts]); assert root.hex() == o['commitment']['root']; print('root', root.hex())
n = len(parts); assert n == o['commitment']['count']
alpha = ah + root + n.to_bytes(8,'big')
b = dfn.get('beacon')
assert (b is None) == (o.get('beacon') is None), 'beacon in only one of definition and outcome'
if b is not None:
    assert b['period_s'] >= 1 and b['round'] == first_round_after(b['genesis_s'], b['period_s'], dfn['window_end_ms']), 'not the first round after the window'
    assert o['beacon']['round'] == b['round'], 'not the announced round'
    sig = bytes.fromhex(o['beacon']['signature']); assert len(sig) == 48
    alpha += sig
    # The BLS12-381 pairing check of the round (docs/lottery.md 3.1) needs
    # a pairing library; this standard-library script leaves it to one.
    print('beacon round', b['round'], 'signature NOT checked here (BLS12-381)')
print('alpha', alpha.hex())
beta = vrf_verify(pk, alpha, bytes.fromhex(o['proof'])); assert beta.hex() == o['beta']; print('beta ok')
w = [parts[i] for i in select(beta, n, dfn['winners'])]
assert w == [x['user_id'] for x in o['winners']], (w, o['winners'])
assert all(code(beta, x['user_id']) == x['redemption_code'] for x in o['winners'])
print('OK winners', w)
