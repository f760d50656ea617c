"""Drives the labeling web app in a real browser (Debian's chromium + chromium-driver through selenium).

A tasker signs in and labels three samples: one by clicking through the decision path, one with the number
keys, one skipped with a reason typed after pressing S. Another tasker has already labeled the first sample
differently through the API, so a reviewer then finds the disagreement and settles it. Screenshots go to --shots.

Usage: label_browser.py --url http://127.0.0.1:PORT --tasker TOKEN --other TOKEN --reviewer TOKEN --shots DIR
Prints one JSON line with what it saw; exits non-zero on the first failed expectation.
"""

import argparse
import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def api(url, token, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read() or b"{}")


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--tasker", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--reviewer", required=True)
    p.add_argument("--shots", required=True)
    a = p.parse_args()
    os.makedirs(a.shots, exist_ok=True)
    base = a.url.rstrip("/")

    # The other tasker labels the first sample through the API: "positive".
    _, nxt = api(base + "/api/queue/next", a.other)
    first = nxt["sample"]["id"]
    status, _ = api(base + "/api/labels", a.other, "POST", {"sample": first, "value": "positive"})
    expect(status == 201, "the API tasker's label was not acknowledged")

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions"]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=opts)
    wait = WebDriverWait(driver, 20)
    seen = {}
    try:
        def shot(name):
            driver.save_screenshot(os.path.join(a.shots, name + ".png"))

        def sign_in(token):
            driver.get(base + "/login")
            box = wait.until(EC.presence_of_element_located((By.ID, "token")))
            box.send_keys(token)
            driver.find_element(By.ID, "sign-in").click()

        def current_sample():
            return driver.find_element(By.ID, "sample").get_attribute("data-id")

        def wait_new_sample(old):
            def changed(d):
                sid = d.find_element(By.ID, "sample").get_attribute("data-id")
                empty = d.find_element(By.ID, "empty").get_attribute("hidden") is None
                return bool((sid and sid != old) or empty)
            wait.until(changed)
            return current_sample()

        # An anonymous visit is sent to the login page.
        driver.get(base + "/label")
        expect(driver.current_url.endswith("/login"), "anonymous /label did not redirect to /login")
        sign_in(a.tasker)
        wait.until(EC.url_contains("/label"))
        wait.until(EC.text_to_be_present_in_element((By.ID, "question"), "Does the text express a feeling?"))
        expect("The writer is pleased." in driver.find_element(By.ID, "rulebook").text, "rulebook not beside the sample")
        shot("1-tasker-first-sample")

        # Sample 1: click through the decision path: feeling? yes -> good? no -> negative.
        s1 = current_sample()
        expect(s1 == first, "the tasker did not get the sample the other tasker labeled (k = 2)")
        driver.find_elements(By.CSS_SELECTOR, "#answers button")[0].click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "question"), "Is the feeling good?"))
        shot("2-tasker-second-question")
        driver.find_elements(By.CSS_SELECTOR, "#answers button")[1].click()
        s2 = wait_new_sample(s1)
        expect("Saved: negative" in driver.find_element(By.ID, "status").text, "sample 1 not saved")

        # Sample 2: the keyboard: 1 (yes) then 1 (good) -> positive.
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("1")
        wait.until(EC.text_to_be_present_in_element((By.ID, "question"), "Is the feeling good?"))
        body.send_keys("1")
        s3 = wait_new_sample(s2)
        expect("Saved: positive" in driver.find_element(By.ID, "status").text, "sample 2 not saved")
        shot("3-tasker-after-keyboard")

        # Sample 3: S opens the reason box; type the reason and press Enter.
        body.send_keys("s")
        reason = wait.until(EC.visibility_of_element_located((By.ID, "reason")))
        reason.send_keys("not English")
        shot("4-tasker-skip-reason")
        reason.send_keys(Keys.ENTER)
        wait_new_sample(s3)
        expect("Saved: skip" in driver.find_element(By.ID, "status").text, "sample 3 not skipped")
        progress = driver.find_element(By.ID, "done").text
        expect(progress == "3", "progress shows %r answered, expected 3" % progress)
        shot("5-tasker-progress")

        _, mine = api(base + "/api/labels", a.tasker)
        got = {l["sample"]: (l["status"], l.get("value"), l.get("reason")) for l in mine["labels"]}
        expect(got.get(s1) == ("label", "negative", None), "sample 1 stored as %r" % (got.get(s1),))
        expect(got.get(s2) == ("label", "positive", None), "sample 2 stored as %r" % (got.get(s2),))
        expect(got.get(s3) == ("skip", None, "not English"), "sample 3 stored as %r" % (got.get(s3),))
        seen["tasker"] = {"labels": len(mine["labels"])}

        # The tasker cannot open the reviewer's page.
        driver.get(base + "/review")
        expect("needs the reviewer role" in driver.page_source, "a tasker reached /review")

        # Sign out, sign in as the reviewer, settle the disagreement on sample 1.
        driver.get(base + "/label")
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        wait.until(EC.url_contains("/login"))
        sign_in(a.reviewer)
        wait.until(EC.url_contains("/review"))
        item = wait.until(EC.presence_of_element_located((By.ID, "review-" + s1)))
        text = item.text
        expect("negative" in text and "positive" in text, "the review item does not show both answers")
        shot("6-reviewer-queue")
        item.find_element(By.CSS_SELECTOR, "button.decide-label[data-value='negative']").click()
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#review-" + s1 + " .status"), "Decided: negative"))
        shot("7-reviewer-decided")
        _, queue = api(base + "/api/review/queue", a.reviewer)
        expect(all(i["sample"] != s1 for i in queue["items"]), "sample 1 still awaits review")
        seen["reviewed"] = s1
        print(json.dumps(seen))
    except Exception:
        try:
            driver.save_screenshot(os.path.join(a.shots, "failure.png"))
            with open(os.path.join(a.shots, "failure.html"), "w") as f:
                f.write(driver.page_source)
        finally:
            raise
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAILED: " + str(e), file=sys.stderr)
        sys.exit(1)
