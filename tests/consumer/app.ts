/**
 * A user's program, compiled by tests/public-types.test.ts against the emitted declarations in a
 * strict project with no Node or DOM types. It only has to type-check; it is never run there.
 * (The repository's own tsconfig checks it too, against the sources.)
 */
import * as torch from "torchlet";
import { nn, optim } from "torchlet";

type Tensor = torch.Tensor;

const x: Tensor = torch.tensor(
  [
    [0.5, -1, 2],
    [1, 0, -0.5],
  ],
  { requiresGrad: true },
);
const target: Tensor = torch.tensor([1, 0], { dtype: "int64" });

const linear = new nn.Linear(3, 2);
const logits: Tensor = linear.forward(x);
const loss: Tensor = new nn.CrossEntropyLoss({ reduction: "mean" }).forward(logits, target);
const value: number = loss.item();

const optimizer = new optim.SGD(linear.parameters(), { lr: 0.1, momentum: 0.9 });
optimizer.zeroGrad();
loss.backward();
optimizer.step();

class TwoLayer extends nn.Module {
  readonly hidden = new nn.Linear(3, 4);
  readonly out = new nn.Linear(4, 2);

  forward(input: Tensor): Tensor {
    return this.out.forward(this.hidden.forward(input).relu());
  }
}
const net = new TwoLayer();
const y: Tensor = net.forward(x);
const names: string[] = net.namedParameters().map(([name]) => name);
const state: nn.StateDict = net.stateDict();
net.loadStateDict(state);

// A forward of any shape is still a valid Module.
class Counter extends nn.Module {
  forward(words: readonly string[], weight = 1): { count: number } {
    return { count: words.length * weight };
  }
}
const counted: number = new Counter().forward(["a", "b"]).count;

const chain = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Dropout(0.1), net.out);
const chained: Tensor = chain.forward(torch.randn([5, 3]));
const layers: Array<nn.Module<[Tensor], Tensor>> = [linear, new nn.Sigmoid(), net];
const anyModule: nn.Module = net;
const unknownResult: unknown = anyModule.forward(x);

const bytes: Uint8Array = torch.io.encodeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } }, { format: "pt" });
const decoded: torch.io.RawTensor = torch.io.decodeSafetensors(bytes).tensors.w;

torch.noGrad(() => linear.weight.mul(0.5));

export const results = [value, y, names, counted, chained, layers, unknownResult, decoded];
