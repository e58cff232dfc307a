/** Properties of the channel tree's materialised paths: child paths, subtree tests, ids, depth, parent. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CHANNEL_TYPES,
  childPath,
  depthOf,
  inSubtree,
  MAX_DEPTH,
  parentOf,
  pathIds,
  ROOT_PATH,
} from "../../src/domain/channels";
import { newId, ROOT_CHANNEL_ID } from "../../src/domain/ids";

const RUNS = { numRuns: 500 };
/** Channel ids as the API accepts them; short ones so that one is often a prefix of another. */
const channelId = fc.oneof(fc.stringMatching(/^chn_[a-z0-9]{1,3}$/), fc.stringMatching(/^chn_[a-z0-9]{1,40}$/));
const idList = (max = MAX_DEPTH) => fc.array(channelId, { maxLength: max });
const pathOf = (ids: string[]) => ids.reduce(childPath, ROOT_PATH);

describe("examples", () => {
  it("the root and a three-level path", () => {
    expect(ROOT_PATH).toBe(`/${ROOT_CHANNEL_ID}/`);
    const a = childPath(ROOT_PATH, "chn_a");
    const a1 = childPath(a, "chn_a1");
    expect(a).toBe("/chn_root/chn_a/");
    expect(a1).toBe("/chn_root/chn_a/chn_a1/");
    expect(pathIds(ROOT_PATH)).toEqual(["chn_root"]);
    expect(pathIds(a1)).toEqual(["chn_root", "chn_a", "chn_a1"]);
    expect([depthOf(ROOT_PATH), depthOf(a), depthOf(a1)]).toEqual([0, 1, 2]);
    expect([parentOf(ROOT_PATH), parentOf(a), parentOf(a1)]).toEqual([null, "chn_root", "chn_a"]);
    expect(inSubtree(a1, a)).toBe(true);
    expect(inSubtree(a, a1)).toBe(false);
    expect(inSubtree(a, a)).toBe(true);
    expect(inSubtree(a, ROOT_PATH)).toBe(true);
  });

  it("an id that is a prefix of a sibling's id does not put the sibling in its subtree", () => {
    const a = childPath(ROOT_PATH, "chn_a");
    const ab = childPath(ROOT_PATH, "chn_ab");
    expect(inSubtree(ab, a)).toBe(false);
    expect(inSubtree(a, ab)).toBe(false);
    expect(inSubtree(childPath(ab, "chn_x"), a)).toBe(false);
  });

  it("real ids and the tree's limits", () => {
    const id = newId("chn");
    expect(id).toMatch(/^chn_[a-z0-9]{26}$/);
    expect(pathIds(childPath(ROOT_PATH, id))).toEqual([ROOT_CHANNEL_ID, id]);
    expect(MAX_DEPTH).toBe(5);
    expect(CHANNEL_TYPES).toContain("agent");
  });
});

describe("path helpers", () => {
  it("childPath appends exactly one id: pathIds, depthOf and parentOf follow", () => {
    fc.assert(
      fc.property(idList(), channelId, (ids, child) => {
        const parent = pathOf(ids);
        const p = childPath(parent, child);
        expect(p.startsWith("/") && p.endsWith("/")).toBe(true);
        expect(pathIds(p)).toEqual([...pathIds(parent), child]);
        expect(depthOf(p)).toBe(depthOf(parent) + 1);
        expect(parentOf(p)).toBe(pathIds(parent).at(-1));
        expect(pathIds(pathOf(ids))).toEqual([ROOT_CHANNEL_ID, ...ids]);
        expect(depthOf(pathOf(ids))).toBe(ids.length);
      }),
      RUNS,
    );
  });

  it("parentOf is null only for the root", () => {
    fc.assert(
      fc.property(idList(), (ids) => {
        const p = pathOf(ids);
        expect(parentOf(p) === null).toBe(ids.length === 0);
        if (ids.length) expect(parentOf(p)).toBe(ids.length === 1 ? ROOT_CHANNEL_ID : ids[ids.length - 2]);
      }),
      RUNS,
    );
  });

  it("inSubtree(x, y) holds exactly when y's ids are a prefix of x's ids", () => {
    fc.assert(
      fc.property(idList(), idList(), (xs, ys) => {
        const x = pathOf(xs);
        const y = pathOf(ys);
        const prefix = ys.length <= xs.length && ys.every((id, i) => xs[i] === id);
        expect(inSubtree(x, y)).toBe(prefix);
      }),
      RUNS,
    );
  });

  it("a channel is in its own subtree, its descendants are in it, its ancestors and siblings are not", () => {
    fc.assert(
      fc.property(idList(4), channelId, channelId, idList(3), (ids, a, b, below) => {
        fc.pre(a !== b);
        const parent = pathOf(ids);
        const pa = childPath(parent, a);
        const pb = childPath(parent, b);
        const deep = pathOf([...ids, a, ...below]);
        expect(inSubtree(pa, pa)).toBe(true);
        expect(inSubtree(deep, pa)).toBe(true);
        expect(inSubtree(deep, parent)).toBe(true);
        expect(inSubtree(deep, ROOT_PATH)).toBe(true);
        expect(inSubtree(parent, pa)).toBe(false);
        expect(inSubtree(pb, pa)).toBe(false);
        expect(inSubtree(pa, pb)).toBe(false);
        expect(inSubtree(childPath(pb, a), pa)).toBe(false);
        expect(inSubtree(deep, pb)).toBe(false);
      }),
      RUNS,
    );
  });

  it("inSubtree is reflexive, transitive and antisymmetric on tree paths", () => {
    fc.assert(
      fc.property(idList(), idList(), idList(), (xs, ys, zs) => {
        const [x, y, z] = [pathOf(xs), pathOf(ys), pathOf(zs)];
        expect(inSubtree(x, x)).toBe(true);
        if (inSubtree(x, y) && inSubtree(y, z)) expect(inSubtree(x, z)).toBe(true);
        if (inSubtree(x, y) && inSubtree(y, x)) expect(x).toBe(y);
      }),
      RUNS,
    );
  });
});
