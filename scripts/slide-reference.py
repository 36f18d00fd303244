# Reference properties and regions from OpenSlide (Debian's python3-openslide) for the test slides written by
# scripts/make-test-slides.ts; the reader tests (src/slide/slide.test.ts) compare against these.
# Usage: /usr/bin/python3 scripts/slide-reference.py <slides-dir> [<fixtures-dir>]
import base64
import json
import os
import sys

import openslide

# The slides OpenSlide 3.4.1 reads in full (it ignores SubIFD levels, so generic-subifd is checked against
# generic-lzw instead; zstd and webp are checked the same way).
SLIDES = ['svs-ycbcr.svs', 'svs-rgb.svs', 'svs-bigtiff.svs', 'svs-j2k-ycbcr.svs', 'svs-j2k-rgb.svs', 'generic-jpeg.tif',
          'generic-lzw.tif', 'generic-deflate.tif']
# (level, x, y) in level-0 pixels; 48 x 32 regions on glass and in tissue, straddling edges of 240 and 256 px tiles
REGIONS = [(0, 220, 228), (0, 980, 980), (1, 980, 980)]
SIZE = (48, 32)
KEEP = ['openslide.vendor', 'openslide.mpp-x', 'openslide.mpp-y', 'openslide.objective-power', 'tiff.XResolution',
        'tiff.YResolution', 'tiff.ResolutionUnit']

def main():
    slides_dir = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), '..', 'src', 'slide', 'fixtures')
    os.makedirs(out_dir, exist_ok=True)
    for name in SLIDES:
        slide = openslide.OpenSlide(os.path.join(slides_dir, name))
        regions = []
        for level, x, y in REGIONS:
            rgba = slide.read_region((x, y), level, SIZE).tobytes()
            regions.append({'level': level, 'x': x, 'y': y, 'width': SIZE[0], 'height': SIZE[1],
                            'rgba': base64.b64encode(rgba).decode('ascii')})
        fixture = {
            'file': name,
            'openslide': openslide.__library_version__,
            'properties': {k: slide.properties[k] for k in KEEP if k in slide.properties},
            'levels': [{'width': w, 'height': h, 'downsample': d}
                       for (w, h), d in zip(slide.level_dimensions, slide.level_downsamples)],
            'associated': {k: list(v.size) for k, v in sorted(slide.associated_images.items())},
            'regions': regions,
        }
        with open(os.path.join(out_dir, name.rsplit('.', 1)[0] + '.json'), 'w') as f:
            json.dump(fixture, f, indent=1)
            f.write('\n')

main()
