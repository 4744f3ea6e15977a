/**
 * src/ndview.ts builds ndarray views by calling ndarray's generated view classes directly: these
 * tests pin that it gives what `ndarray(...)` gives, for every typed array the library stores and
 * every rank, so an ndarray release that changed its classes would fail here first.
 */
import ndarray from "ndarray";
import { ndview } from "../src/ndview";

const ARRAYS = [Float32Array, Float64Array, Uint8Array];

/** Every element of `nd` in row-major order, read through its own `get`. */
function elements(nd: ndarray.NdArray): number[] {
  const out: number[] = [];
  const visit = (index: number[]): void => {
    if (index.length === nd.shape.length) {
      out.push(nd.get(...index) as number);
      return;
    }
    for (let i = 0; i < nd.shape[index.length]; i++) visit([...index, i]);
  };
  visit([]);
  return out;
}

describe("ndview is ndarray(data, shape, stride, offset)", () => {
  const shapes = [[], [5], [2, 3], [2, 1, 3], [1, 2, 2, 2], [1, 1, 2, 1, 2, 1]];
  test.each(ARRAYS.flatMap((A) => shapes.map((shape) => [A.name, JSON.stringify(shape), A, shape] as const)))(
    "%s, shape %s",
    (_, __, A, shape) => {
      const data = new A(40);
      for (let i = 0; i < data.length; i++) data[i] = i % 7;
      // Strides that are neither contiguous nor in order, and an offset.
      const stride = shape.map((_, i) => (i % 2 === 0 ? 1 : 3) * (shape.length - i));
      const want = ndarray(data, [...shape], [...stride], 4);
      const got = ndview(data, shape, stride, 4);
      expect(got.constructor).toBe(want.constructor);
      expect(got.dtype).toBe(want.dtype);
      expect(got.data).toBe(data);
      expect(got.shape).toEqual(shape);
      expect(got.stride).toEqual(stride);
      expect(got.offset).toBe(4);
      expect(got.size).toBe(want.size);
      expect(elements(got)).toEqual(elements(want));
    },
  );

  test("shape and stride are copied, not kept", () => {
    const shape = [2, 2];
    const stride = [2, 1];
    const view = ndview(new Float32Array(4), shape, stride);
    shape[0] = 9;
    stride[0] = 9;
    expect(view.shape).toEqual([2, 2]);
    expect(view.stride).toEqual([2, 1]);
    expect(view.offset).toBe(0);
  });
});
