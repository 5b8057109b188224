/** The Dockerfile built into OCI images with buildah and run with runc, for `quickdeal images` and the images tests. */
export { imageConfig, imageSize, type ImageConfig } from './buildah.js';
export { baseImage } from './base-image.js';
export { IMAGE_TARGETS, buildImages, formatMegabytes, imageName, type BuiltImage, type ImageTarget } from './images.js';
export { removeBundle, runContainer, unpackImage, type Bundle, type RunningContainer } from './run-image.js';
export { NODE24_VERSION } from '../../node-runtime.mjs';
