import { imageConfig } from '../images/buildah.js';
import { IMAGE_TARGETS, buildImages, formatMegabytes, type ImageTarget } from '../images/images.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

export const images: Command = {
  summary: 'build the Dockerfile into OCI images with buildah (no Docker engine; needs root): all four, or the named targets',
  usage: 'images [ticketing|admission|payment|operator …]',
  async run({ positionals }) {
    const unknown = positionals.filter((name) => !(IMAGE_TARGETS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      console.error(`quickdeal images: unknown target ${unknown.join(', ')} (use ${IMAGE_TARGETS.join(', ')})`);
      return 2;
    }
    const built = await buildImages(positionals.length > 0 ? (positionals as ImageTarget[]) : IMAGE_TARGETS);
    const rows = await Promise.all(
      built.map(async ({ image, size }) => {
        const config = await imageConfig(image);
        return [image, formatMegabytes(size), config.User ?? 'root', (config.Entrypoint ?? []).join(' ')];
      }),
    );
    console.log(`\n${formatTable([['IMAGE', 'SIZE', 'USER', 'ENTRYPOINT'], ...rows])}`);
    console.log('\nrun and check them (non-root, read-only root filesystem, probes): npm run test:images');
    return 0;
  },
};
