// The part of ndarray-ops that torchlet uses (the package ships no types).
declare module "ndarray-ops" {
  import type { NdArray } from "ndarray";
  type A = NdArray<ArrayLike<number> & { [index: number]: number }>;
  type Binary = (out: A, a: A, b: A) => void;
  type WithScalar = (out: A, a: A, s: number) => void;
  type Unary = (out: A, a: A) => void;
  type InPlace = (out: A, a: A) => void;
  const ops: {
    assign: Unary;
    assigns: (out: A, s: number) => void;
    add: Binary;
    sub: Binary;
    mul: Binary;
    div: Binary;
    pow: Binary;
    eq: Binary;
    adds: WithScalar;
    subs: WithScalar;
    muls: WithScalar;
    divs: WithScalar;
    pows: WithScalar;
    eqs: WithScalar;
    addeq: InPlace;
    subeq: InPlace;
    muleq: InPlace;
    mulseq: (out: A, s: number) => void;
    neg: Unary;
    exp: Unary;
    log: Unary;
    sqrt: Unary;
    abs: Unary;
    max: Binary;
    min: Binary;
    maxs: WithScalar;
    mins: WithScalar;
    sum: (a: A) => number;
    sup: (a: A) => number;
    inf: (a: A) => number;
  };
  export = ops;
}
