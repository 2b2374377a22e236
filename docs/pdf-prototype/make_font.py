"""Make 'Saraban Laksaman': Laksaman scaled to TH Sarabun New's size (the 0.66 factor Debian's
89-tlwg-laksaman-synthetic.conf uses), by raising unitsPerEm; outlines/GPOS untouched."""
from fontTools.ttLib import TTFont
for src, style in [('Laksaman.ttf', 'Regular'), ('Laksaman-Bold.ttf', 'Bold')]:
    f = TTFont('/usr/share/fonts/truetype/tlwg/' + src)
    f['head'].unitsPerEm = round(1000 / 0.66)          # 1515
    for rec in f['name'].names:
        if rec.nameID in (1, 16): rec.string = 'Saraban Laksaman'
        elif rec.nameID == 4: rec.string = 'Saraban Laksaman ' + style
        elif rec.nameID == 6: rec.string = 'SarabanLaksaman-' + style
    f.save(f'fonts/SarabanLaksaman-{style}.ttf')
