// Transformers over the unresolved AST, in the manner of Kysely's OperationNodeTransformer: the
// base class walks every node kind and rebuilds it unchanged; a subclass overrides the few node
// kinds it rewrites. They run between parse and resolve, so a rewrite is never a string edit.
import type {
  AndNode,
  BareNode,
  CompareNode,
  FieldNode,
  IncludeDeletedNode,
  InvalidNode,
  NotNode,
  OrNode,
  ProjectionNode,
  QueryItem,
  SearchNode,
  SortKeyNode,
  SortNode,
  UnresolvedCondition,
  UnresolvedQuery,
  WhereNode,
} from './unresolved-ast.ts';

export class QueryTransformer {
  transformQuery(node: UnresolvedQuery): UnresolvedQuery {
    return { ...node, items: node.items.map((item) => this.transformItem(item)) };
  }

  transformItem(node: QueryItem): QueryItem {
    switch (node.kind) {
      case 'where':
        return this.transformWhere(node);
      case 'sort':
        return this.transformSort(node);
      case 'projection':
        return this.transformProjection(node);
      case 'search':
        return this.transformSearch(node);
      case 'include-deleted':
        return this.transformIncludeDeleted(node);
      case 'invalid':
        return this.transformInvalid(node);
    }
  }

  transformCondition(node: UnresolvedCondition): UnresolvedCondition {
    switch (node.kind) {
      case 'and':
        return this.transformAnd(node);
      case 'or':
        return this.transformOr(node);
      case 'not':
        return this.transformNot(node);
      case 'field':
        return this.transformField(node);
      case 'compare':
        return this.transformCompare(node);
      case 'bare':
        return this.transformBare(node);
      case 'invalid':
        return this.transformInvalid(node);
    }
  }

  protected transformWhere(node: WhereNode): WhereNode {
    return { ...node, condition: this.transformCondition(node.condition) };
  }
  protected transformSort(node: SortNode): SortNode {
    return { ...node, keys: node.keys.map((key) => this.transformSortKey(key)) };
  }
  protected transformSortKey(node: SortKeyNode): SortKeyNode {
    return node;
  }
  protected transformProjection(node: ProjectionNode): ProjectionNode {
    return node;
  }
  protected transformSearch(node: SearchNode): SearchNode {
    return node;
  }
  protected transformIncludeDeleted(node: IncludeDeletedNode): IncludeDeletedNode {
    return node;
  }
  protected transformAnd(node: AndNode): AndNode {
    return { ...node, items: node.items.map((item) => this.transformCondition(item)) };
  }
  protected transformOr(node: OrNode): OrNode {
    return { ...node, items: node.items.map((item) => this.transformCondition(item)) };
  }
  protected transformNot(node: NotNode): NotNode {
    return { ...node, item: this.transformCondition(node.item) };
  }
  protected transformField(node: FieldNode): FieldNode {
    return { ...node, item: this.transformCondition(node.item) };
  }
  protected transformCompare(node: CompareNode): CompareNode {
    return node;
  }
  protected transformBare(node: BareNode): BareNode {
    return node;
  }
  protected transformInvalid(node: InvalidNode): InvalidNode {
    return node;
  }
}

/**
 * An older API version's field paths → the current model's. `rename` takes a path as the older
 * version names it and the URL parameter it came from (for the error when it has no single place
 * now). Error locations (`at`) are left as the client wrote them, so problems name the client's
 * own parameters; bare names that are presets are not field paths and stay as they are.
 */
export class ApiVersionRenames extends QueryTransformer {
  constructor(
    private readonly rename: (path: string, param: string) => string,
    private readonly presets: ReadonlySet<string>,
  ) {
    super();
  }

  protected override transformSortKey(node: SortKeyNode): SortKeyNode {
    return { ...node, path: this.rename(node.path, '_sort') };
  }
  protected override transformProjection(node: ProjectionNode): ProjectionNode {
    return { ...node, paths: node.paths.map((path) => this.rename(path, '_fields')) };
  }
  protected override transformField(node: FieldNode): FieldNode {
    const path = this.rename(node.path, node.param);
    return { ...node, path, item: this.transformCondition(node.item) };
  }
  protected override transformCompare(node: CompareNode): CompareNode {
    return { ...node, path: this.rename(node.path, node.param) };
  }
  protected override transformBare(node: BareNode): BareNode {
    return this.presets.has(node.name) ? node : { ...node, name: this.rename(node.name, node.param) };
  }
}

/** A sort for a query that gives none (a list's own default order, e.g. a part's versions oldest first). */
export class DefaultSort extends QueryTransformer {
  private readonly keys: readonly SortKeyNode[];

  constructor(keys: readonly { path: string; direction: 'asc' | 'desc' }[]) {
    super();
    this.keys = keys.map((key) => ({ kind: 'sort-key', ...key }));
  }

  override transformQuery(node: UnresolvedQuery): UnresolvedQuery {
    if (node.items.some((item) => item.kind === 'sort')) return node;
    return { ...node, items: [{ kind: 'sort', keys: this.keys }, ...node.items] };
  }
}
