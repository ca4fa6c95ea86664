import type { FieldDocs } from './types.js';

// Where the image is published, and the matrix of variants.

export const RELEASE_FIELDS: FieldDocs = {
  publish: ['mapping', 'where `publish` pushes (see [Publishing](#publishing))'],
  'publish.registry': ['`HOST[:PORT]`', 'registry'],
  'publish.repository': ['name', 'default: the recipe name'],
  'publish.tags': [
    'templates, `["{version}"]`',
    '`{version}`, `{cuda_major}`, `{framework}`, ...; each variant\'s first tag starts with `{version}`. An entry `{tag, when: {cuda, python}}` goes only to the variants it matches, e.g. Dynamo\'s `[{tag: "{version}", when: {cuda: "12.9"}}, {tag: "{version}-cuda13", when: {cuda: "13.0"}}]`',
  ],
  'publish.tags[].tag': ['template', 'a tag only some variants get'],
  'publish.tags[].when': ['mapping', 'the variants that get it: all of its values match'],
  'publish.tags[].when.cuda': ['`"MAJOR.MINOR"`', "the variant's CUDA toolkit"],
  'publish.tags[].when.python': ['`"MAJOR.MINOR"`', "the variant's Python"],
  'publish.tags[].when.dynamo': ['`"X.Y.Z"`', "the variant's Dynamo release"],
  'publish.mutableTags': ['templates', 'tags that may move (e.g. `latest`)'],
  matrix: ['mapping', 'matrix axes (see [Matrix builds](#matrix-builds))'],
  'matrix.cuda': ['CUDA versions', 'axis'],
  'matrix.platform': ['platforms', 'axis'],
  'matrix.python': ['Python versions', 'axis'],
  'matrix.dynamo': [
    'exact Dynamo releases (`"1.7.0"`)',
    "axis: each variant pins its release's engine, NIXL and UCX; where `version` is the recipe's `dynamo`, the variant's image version is its release",
  ],
  'matrix.include': ['list of combinations', "explicit additions; unnamed axes take the recipe's own values"],
  'matrix.exclude': ['list of combinations', 'explicit removals: an entry matches every variant with those values'],
  'matrix.include[].cuda': ['`"MAJOR.MINOR"`', 'same rule as `base.cuda`'],
  'matrix.include[].platform': ['`linux/amd64` or `linux/arm64`', 'same rule as `base.platforms`'],
  'matrix.include[].python': ['`"3.X"`', 'same rule as `python`'],
  'matrix.include[].dynamo': ['`"X.Y.Z"`', 'an exact Dynamo release'],
  'matrix.exclude[].cuda': ['`"MAJOR.MINOR"`', 'same rule as `base.cuda`'],
  'matrix.exclude[].platform': ['`linux/amd64` or `linux/arm64`', 'same rule as `base.platforms`'],
  'matrix.exclude[].python': ['`"3.X"`', 'same rule as `python`'],
  'matrix.exclude[].dynamo': ['`"X.Y.Z"`', 'an exact Dynamo release'],
};
