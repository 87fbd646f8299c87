#!/usr/bin/env python3
# Functions longer than MAXL lines (default 100) under the given folder (default src), by
# brace matching: `MAXL=100 scripts/long-functions.py src` prints nothing when none is.
import re,sys,os
# crude: find 'fn name' lines, then match braces
res=[]
for root,_,files in os.walk(sys.argv[1] if len(sys.argv)>1 else 'src'):
    for f in files:
        if not f.endswith('.rs'): continue
        p=os.path.join(root,f); lines=open(p).read().split('\n')
        i=0
        while i<len(lines):
            l=lines[i]
            m=re.match(r'\s*(pub(\([^)]*\))?\s+)?(const\s+)?(unsafe\s+)?(async\s+)?fn\s+(\w+)',l)
            if m and not l.strip().startswith('//'):
                depth=0; started=False; j=i
                while j<len(lines):
                    s=re.sub(r'"(\\.|[^"\\])*"','""',lines[j]); s=re.sub(r"'(\\.|[^'\\])'","''",s); s=s.split('//')[0]
                    for ch in s:
                        if ch=='{': depth+=1; started=True
                        elif ch=='}': depth-=1
                    if started and depth==0: break
                    if not started and s.rstrip().endswith(';'): break
                    j+=1
                n=j-i+1
                if started and n>int(os.environ.get('MAXL','100')): res.append((n,p,i+1,m.group(6)))
            i+=1
for r in sorted(res,reverse=True): print(*r)
