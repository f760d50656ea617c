"""Opens an HTML file in headless Debian chromium through selenium, saves a screenshot and reports what rendered.

usage: python report_screenshot.py REPORT.html SCREENSHOT.png
Prints one JSON object: console messages at SEVERE level, number of charts, charts with an empty box, the page title,
and the page height. Exits 0 when the page loaded.
"""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

page, shot = sys.argv[1], sys.argv[2]
options = Options()
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
    options.add_argument(arg)
options.binary_location = os.environ.get("STRATA_CHROMIUM", "/usr/bin/chromium")
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(options=options, service=Service(os.environ.get("STRATA_CHROMEDRIVER", "/usr/bin/chromedriver")))
try:
    driver.get("file://" + os.path.abspath(page))
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height, 800), 12000))
    charts = driver.execute_script("return document.querySelectorAll('svg.chart').length")
    empty = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).filter(s => {"
        " const r = s.getBoundingClientRect(); return r.width < 50 || r.height < 20 || s.querySelectorAll('rect,circle,polyline,text').length < 2; }).length")
    recommendations = driver.execute_script("return document.querySelectorAll('.rec').length")
    title = driver.title
    driver.save_screenshot(shot)
    logs = driver.get_log("browser")
    severe = [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]
    print(json.dumps({"severe": severe, "charts": charts, "empty_charts": empty, "recommendations": recommendations,
                      "title": title, "height": height}))
finally:
    driver.quit()
