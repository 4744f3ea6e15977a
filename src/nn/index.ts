/** `torch.nn`: modules, parameters and the functional forms. */
export { Module, Parameter } from "./module";
export type { StateDict } from "./module";
