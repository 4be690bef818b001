// The declarative upgrade steps on plain records: forwards (an old record or request → the current
// shape), backwards (the current shape → an older API version), and field paths both ways.
import { describe, expect, it } from 'vitest';
import { downgradeRecord, pathBackward, pathForward, upgradeRecord } from '../src/evolution/steps.ts';
import type { UpgradeDef, UpgradeStep } from '../src/registry/model.ts';

const p = (dotted: string) => dotted.split('.');
const at = (version: number, ...steps: UpgradeStep[]): UpgradeDef => ({ version, steps });

describe('upgrade steps', () => {
  it('renames, and renames back', () => {
    const upgrades = [at(2, { kind: 'rename', from: p('release_date'), to: p('publish_date') })];
    const v1 = { title: 'A', release_date: '2025-03-01' };
    const v2 = upgradeRecord(v1, upgrades, 1, 2);
    expect(v2).toEqual({ title: 'A', publish_date: '2025-03-01' });
    expect(downgradeRecord(v2, upgrades, 2, 1)).toEqual(v1);
    expect(v1).toEqual({ title: 'A', release_date: '2025-03-01' }); // the input is not changed
  });

  it('moves into a group and out again, creating and dropping the group', () => {
    const upgrades = [at(2, { kind: 'move', from: p('duration_seconds'), to: p('timing.duration_seconds') })];
    expect(upgradeRecord({ duration_seconds: 60, timing: null }, upgrades, 1, 2)).toEqual({
      timing: { duration_seconds: 60 },
    });
    expect(upgradeRecord({ duration_seconds: 60, timing: { intro: 5 } }, upgrades, 1, 2)).toEqual({
      timing: { intro: 5, duration_seconds: 60 },
    });
    expect(downgradeRecord({ timing: { duration_seconds: 60 } }, upgrades, 2, 1)).toEqual({ duration_seconds: 60 });
    expect(downgradeRecord({ timing: { duration_seconds: 60, intro: 5 } }, upgrades, 2, 1)).toEqual({
      timing: { intro: 5 },
      duration_seconds: 60,
    });
    // An unset group reads as an unset field.
    expect(downgradeRecord({ timing: null }, upgrades, 2, 1)).toEqual({ timing: null, duration_seconds: null });
  });

  it('never lets a null overwrite a value, but carries an explicit null (a merge patch clearing a field)', () => {
    const upgrades = [at(2, { kind: 'rename', from: p('a'), to: p('b') })];
    expect(upgradeRecord({ a: null, b: 'kept' }, upgrades, 1, 2)).toEqual({ b: 'kept' });
    expect(upgradeRecord({ a: null }, upgrades, 1, 2)).toEqual({ b: null });
  });

  it('fills a default only where the value is absent or null', () => {
    const upgrades = [at(2, { kind: 'set_default', field: p('language'), value: 'en' })];
    expect(upgradeRecord({}, upgrades, 1, 2)).toEqual({ language: 'en' });
    expect(upgradeRecord({ language: null }, upgrades, 1, 2)).toEqual({ language: 'en' });
    expect(upgradeRecord({ language: 'fr' }, upgrades, 1, 2)).toEqual({ language: 'fr' });
    expect(downgradeRecord({ language: 'en' }, upgrades, 2, 1)).toEqual({ language: 'en' });
  });

  it('splits and joins, each the inverse of the other', () => {
    const splitting = [
      at(2, { kind: 'split', from: p('name'), to: [p('first_name'), p('last_name')], separator: ' ' }),
    ];
    expect(upgradeRecord({ name: 'Sarah Jane Johnson' }, splitting, 1, 2)).toEqual({
      first_name: 'Sarah',
      last_name: 'Jane Johnson',
    });
    expect(upgradeRecord({ name: 'Cher' }, splitting, 1, 2)).toEqual({ first_name: 'Cher', last_name: null });
    expect(upgradeRecord({ name: null }, splitting, 1, 2)).toEqual({ first_name: null, last_name: null });
    expect(downgradeRecord({ first_name: 'Sarah', last_name: 'Johnson' }, splitting, 2, 1)).toEqual({
      name: 'Sarah Johnson',
    });
    expect(downgradeRecord({ first_name: 'Cher', last_name: null }, splitting, 2, 1)).toEqual({ name: 'Cher' });

    const joining = [
      at(2, { kind: 'join', from: [p('city'), p('country')], to: p('location.place'), separator: ', ' }),
    ];
    expect(upgradeRecord({ city: 'Paris', country: 'France' }, joining, 1, 2)).toEqual({
      location: { place: 'Paris, France' },
    });
    expect(downgradeRecord({ location: { place: 'Paris, France' } }, joining, 2, 1)).toEqual({
      city: 'Paris',
      country: 'France',
    });
  });

  it('maps enum values (in arrays too), and maps back only what one value maps to', () => {
    const upgrades = [
      at(2, {
        kind: 'map_values',
        field: p('status'),
        map: { cancelled: 'canceled', shelved: 'on_hold', paused: 'on_hold' },
      }),
    ];
    expect(upgradeRecord({ status: 'cancelled' }, upgrades, 1, 2)).toEqual({ status: 'canceled' });
    expect(upgradeRecord({ status: ['paused', 'draft'] }, upgrades, 1, 2)).toEqual({ status: ['on_hold', 'draft'] });
    expect(downgradeRecord({ status: 'canceled' }, upgrades, 2, 1)).toEqual({ status: 'cancelled' });
    expect(downgradeRecord({ status: 'on_hold' }, upgrades, 2, 1)).toEqual({ status: 'on_hold' });
  });

  it('removes a field, which cannot come back', () => {
    const upgrades = [at(2, { kind: 'remove', field: p('legacy.code') })];
    expect(upgradeRecord({ legacy: { code: 'X' }, title: 'A' }, upgrades, 1, 2)).toEqual({ title: 'A' });
    expect(downgradeRecord({ title: 'A' }, upgrades, 2, 1)).toEqual({ title: 'A' });
  });

  it('applies only the versions between the two, in order', () => {
    const upgrades = [
      at(2, { kind: 'rename', from: p('a'), to: p('b') }),
      at(3, { kind: 'rename', from: p('b'), to: p('c') }),
    ];
    expect(upgradeRecord({ a: 1 }, upgrades, 1, 3)).toEqual({ c: 1 });
    expect(upgradeRecord({ b: 1 }, upgrades, 2, 3)).toEqual({ c: 1 });
    expect(upgradeRecord({ a: 1 }, upgrades, 1, 2)).toEqual({ b: 1 });
    expect(downgradeRecord({ c: 1 }, upgrades, 3, 1)).toEqual({ a: 1 });
    expect(downgradeRecord({ c: 1 }, upgrades, 3, 2)).toEqual({ b: 1 });
  });

  it('translates field paths both ways, and says why a split or removed field has no place', () => {
    const upgrades = [
      at(
        2,
        { kind: 'rename', from: p('release_date'), to: p('publish_date') },
        { kind: 'move', from: p('specs'), to: p('technical.specs') },
      ),
      at(
        3,
        { kind: 'split', from: p('name'), to: [p('first'), p('last')], separator: ' ' },
        { kind: 'remove', field: p('legacy') },
      ),
    ];
    expect(pathForward(p('release_date'), upgrades, 1, 3)).toEqual({ path: p('publish_date') });
    expect(pathForward(p('specs.codec'), upgrades, 1, 3)).toEqual({ path: p('technical.specs.codec') });
    expect(pathForward(p('title'), upgrades, 1, 3)).toEqual({ path: p('title') });
    expect(pathForward(p('name'), upgrades, 1, 3)).toEqual({ error: 'was split into first and last' });
    expect(pathForward(p('legacy.code'), upgrades, 1, 3)).toEqual({ error: 'was removed' });
    expect(pathForward(p('name'), upgrades, 3, 3)).toEqual({ path: p('name') });
    expect(pathBackward(p('technical.specs.codec'), upgrades, 3, 1)).toEqual(p('specs.codec'));
    expect(pathBackward(p('publish_date'), upgrades, 3, 2)).toEqual(p('publish_date'));
  });
});
