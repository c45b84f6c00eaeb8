import type { Node, TensorData, Value } from './types.js';

/**
 * A mutable ONNX graph: values by name, nodes in insertion order (which is always a valid
 * topological order, because a node can only consume values that already exist), graph
 * inputs/outputs, and initializers (constant tensors stored inside the model).
 */
export class Graph {
  readonly values = new Map<string, Value>();
  readonly nodes: Node[] = [];
  readonly inputs: string[] = [];
  readonly outputs: string[] = [];
  readonly initializers = new Map<string, TensorData>();
  /** The producing node of each value, for walking the graph backwards. */
  readonly producer = new Map<string, Node>();
  private readonly usedNames = new Set<string>();

  constructor(readonly name = 'graph') {}

  /** A fresh unique name with the given stem ("h" -> "h", "h_1", "h_2", ...). */
  uniqueName(stem: string): string {
    let name = stem;
    for (let i = 1; this.usedNames.has(name); i++) name = `${stem}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  addValue(value: Value): Value {
    if (this.values.has(value.name)) throw new Error(`graph '${this.name}': value '${value.name}' defined twice`);
    this.usedNames.add(value.name);
    this.values.set(value.name, value);
    return value;
  }

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new Error(`graph '${this.name}': no value named '${name}'`);
    return v;
  }

  addNode(node: Node): Node {
    for (const input of node.inputs) {
      if (input !== '' && !this.values.has(input)) {
        throw new Error(`graph '${this.name}': node '${node.name}' (${node.opType}) reads undefined value '${input}'`);
      }
    }
    this.usedNames.add(node.name);
    this.nodes.push(node);
    for (const output of node.outputs) if (output !== '') this.producer.set(output, node);
    return node;
  }

  addInitializer(name: string, tensor: TensorData): void {
    this.initializers.set(name, tensor);
  }

  /** The constant tensor behind a value, if it is an initializer or a Constant node's output. */
  constantOf(name: string): TensorData | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const node = this.producer.get(name);
    const attr = node?.opType === 'Constant' ? node.attrs.value : undefined;
    return attr?.type === 'tensor' ? attr.value : undefined;
  }

  /** The nodes (by index) that the given values depend on, and every value those nodes read, with the given ones. */
  ancestors(values: Iterable<string>): { nodes: Set<number>; values: Set<string> } {
    const needed = new Set(values);
    const nodes = new Set<number>();
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const node = this.nodes[k] as Node;
      if (!node.outputs.some((o) => needed.has(o))) continue;
      nodes.add(k);
      for (const i of node.inputs) if (i !== '') needed.add(i);
    }
    return { nodes, values: needed };
  }
}

/** A copy of the graph without the nodes (and initializers) no graph output depends on. */
export function pruneToOutputs(graph: Graph): Graph {
  const { nodes, values } = graph.ancestors(graph.outputs);
  const pruned = new Graph(graph.name);
  for (const name of graph.inputs) {
    pruned.addValue(graph.value(name));
    pruned.inputs.push(name);
  }
  for (const [name, t] of graph.initializers) {
    if (!values.has(name)) continue;
    pruned.addValue(graph.value(name));
    pruned.addInitializer(name, t);
  }
  graph.nodes.forEach((node, k) => {
    if (!nodes.has(k)) return;
    for (const o of node.outputs) if (o !== '') pruned.addValue(graph.value(o));
    pruned.addNode(node);
  });
  pruned.outputs.push(...graph.outputs);
  return pruned;
}
