"""Build memo.html from the seed text (so every character is the seed's), then render it."""
import html, re, subprocess, sys, time
L = [l.strip() for l in open('/work/shared/seed/progress-memo-2565.txt', encoding='utf-8').read().split('\n')]
e = html.escape
def after(prefix):
    return next(l for l in L if l.startswith(prefix))[len(prefix):].strip()

gov = after('ส่วนราชการ'); no = after('ที่ สป').join(['สป ', '']); date = after('วันที่')
i = next(k for k, l in enumerate(L) if l.startswith('เรื่อง ')); subject = L[i][6:] + ' ' + L[i + 1]
to = after('เรียน')
body_start = L.index('เรื่องเดิม'); body_end = L.index('จึงเรียนมาเพื่อโปรดทราบ และพิจารณาดำเนินการต่อไป')
body = []
for l in L[body_start:body_end]:
    if not l: continue
    body.append(f'<h3>{e(l)}</h3>' if l in ('เรื่องเดิม', 'ข้อเท็จจริง', 'ข้อพิจารณา') else f'<p>{e(l)}</p>')
sigs = [(L[k][1:-1], next(x for x in L[k + 1:] if x)) for k, l in enumerate(L) if re.fullmatch(r'\([^()\t]+\)', l)]
sig = lambda n, p: f'<div class="signature"><p class="name">{e(n)}</p><p>{e(p)}</p></div>'

def cell(c):
    c = c.strip()
    def ul(m):
        items = [x.strip() for x in m.group(1).split(' - ') if x.strip(' -')]
        return '<ul>' + ''.join(f'<li>- {x.lstrip("- ")}</li>' for x in items) + '</ul>'
    c = re.sub(r'<ul[^>]*>(.*?)(?:</ul>|$)', ul, c, flags=re.S)
    return c   # seed cells are the editor's rich text (<p>, <ul>): kept as HTML
rows = []
t0 = L.index('มาตรการ\tวิธีการดำเนินงาน\tผู้รับผิดชอบ\tผลการดำเนินงาน')
for l in L[t0:]:
    if l.startswith('ภาพแสดงผล'): break
    if '\t' in l and not l.startswith('มาตรการ\t'):
        rows.append('<tr>' + ''.join(f'<td>{cell(c)}</td>' for c in l.split('\t')) + '</tr>')
title2 = [l for l in L[body_end:t0] if l][-3:]

doc = f'''<!doctype html>
<html lang="th"><head><meta charset="utf-8"><title>บันทึกข้อความ</title>
<link rel="stylesheet" href="memo.css"></head>
<body>
<header class="memo-head">
  <img class="garuda" src="assets/garuda-placeholder.svg" alt="ตราครุฑ">
  <h1 class="title">บันทึกข้อความ</h1>
  <div class="urgency">ด่วนที่สุด</div>
</header>
<div class="field-row"><div class="field"><span class="label">ส่วนราชการ</span><span class="value">{e(gov)}</span></div></div>
<div class="field-row"><div class="field no"><span class="label">ที่</span><span class="value">{e(no)}</span></div>
  <div class="field"><span class="label">วันที่</span><span class="value">{e(date)}</span></div></div>
<div class="field-row subject"><div class="field"><span class="label">เรื่อง</span><span class="value">{e(subject)}</span></div></div>
<p class="salutation">เรียน&nbsp;&nbsp;{e(to)}</p>
<section class="body">
{chr(10).join(body)}
<p class="closing">จึงเรียนมาเพื่อโปรดทราบ และพิจารณาดำเนินการต่อไป</p>
</section>
{sig(*sigs[0])}
<div class="endorsements">{''.join(sig(*s) for s in sigs[1:])}</div>
<section class="attachment">
  <h2>{e(title2[0])}</h2><h2>{e(title2[1])}</h2><h2>{e(title2[2])}</h2>
  <table class="report"><colgroup><col class="c1"><col class="c2"><col class="c3"><col class="c4"></colgroup>
  <thead><tr><th>มาตรการ</th><th>วิธีการดำเนินงาน</th><th>ผู้รับผิดชอบ</th><th>ผลการดำเนินงาน</th></tr></thead>
  <tbody>{chr(10).join(rows)}</tbody></table>
</section>
</body></html>
'''
open('memo.html', 'w', encoding='utf-8').write(doc)

import weasyprint
from thaifix import fix_thai_tounicode
for i in range(3):
    t = time.time()
    pdf = fix_thai_tounicode(weasyprint.HTML(string=doc, base_url='.').write_pdf())
    open('memo.pdf', 'wb').write(pdf)
    print(f'render {i}: {time.time() - t:.2f}s')
subprocess.run(['pdftoppm', '-r', '100', '-png', 'memo.pdf', 'memo'], check=True)
